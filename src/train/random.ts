/**
 * Seeded randomness for everything training draws outside tfjs (splits, batch order), so that
 * one seed reproduces one model bit for bit. Math.random cannot be seeded, and tfjs's own
 * shuffle uses it; mulberry32 is a small, well-known 32-bit generator that is enough here.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32 seeded with a 32-bit integer. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place; returns the array. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A derived seed for a sub-task, so that tasks do not share one stream. */
export function subSeed(seed: number, task: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + task * 0xc2b2ae35) >>> 0;
}

import { describe, expect, it } from 'vitest';
import { SlabPool } from './slabs.ts';

describe('SlabPool', () => {
  it('hands out shared views of exactly the asked length, and reuses a released slab', () => {
    const pool = new SlabPool(4 * 1024 * 1024);
    const a = pool.take(920_000);
    expect(a.bytes.length).toBe(920_000);
    expect(a.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    a.bytes[0] = 42;
    a.release();
    expect(pool.retainedBytes).toBe(1024 * 1024);
    const b = pool.take(700_000);
    expect(b.bytes.buffer).toBe(a.bytes.buffer);
    expect(pool.retainedBytes).toBe(0);
  });

  it('never hands one slab to two holders, even when released twice', () => {
    const pool = new SlabPool(4 * 1024 * 1024);
    const a = pool.take(1000);
    a.release();
    a.release();
    const b = pool.take(1000);
    const c = pool.take(1000);
    expect(b.bytes.buffer).not.toBe(c.bytes.buffer);
  });

  it('keeps at most its bound of free slabs', () => {
    const pool = new SlabPool(2 * 1024 * 1024);
    const held = [pool.take(1_000_000), pool.take(1_000_000), pool.take(1_000_000)];
    held.forEach((s) => s.release());
    expect(pool.retainedBytes).toBe(2 * 1024 * 1024);
  });
});

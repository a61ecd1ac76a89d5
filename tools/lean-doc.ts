/**
 * The figures of docs/protocol.md §9 (lean single-record plans), generated from the bench record
 * bench/lean-results.json so that the page cannot drift from the last measurement. The record
 * must be of today's plans: a model retrained since (another single plan hash) makes the
 * generator throw, and tests/protocol-doc.test.ts with it, until `nice -n 10 npx tsx
 * bench/lean.ts` has measured the new plan.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { repoRoot } from '../src/cli/paths.ts';
import type { LeanModelRecord, LeanRecord } from '../bench/lean-record.ts';

export type { LeanRecord };

export const LEAN_RECORD = resolve(repoRoot, 'bench/lean-results.json');

export async function readLeanRecord(path = LEAN_RECORD): Promise<LeanRecord> {
  return JSON.parse(await readFile(path, 'utf8')) as LeanRecord;
}

const bytes = (n: number) => n.toLocaleString('en-US');
const bits = (n: number) => `${n} bit${n === 1 ? '' : 's'}`;

/** "a–b" over the models, each formatted (one figure when both ends read the same). */
function range(values: readonly number[], format: (n: number) => string = String): string {
  const lo = format(Math.min(...values));
  const hi = format(Math.max(...values));
  return lo === hi ? lo : `${lo}–${hi}`;
}

/** The numbers in a refusal's reason, by pattern; a reason in other words is a record the page cannot read. */
function numbersIn(reason: string, pattern: RegExp, model: string): number[] {
  const m = reason.match(pattern);
  if (!m) throw new Error(`bench/lean-results.json: ${model}'s refusal "${reason}" is not in the words docs/protocol.md §9 reads`);
  return m.slice(1).map(Number);
}

/** §9's generated regions from the record, checked against today's single plan hashes (model id → hash). */
export function leanRegions(record: LeanRecord, singlePlanHash: ReadonlyMap<string, string>): Record<string, string> {
  const models = [...record.models].sort((a, b) => a.model.localeCompare(b.model));
  const ids = models.map((m) => m.model);
  const missing = [...singlePlanHash.keys()].filter((id) => !ids.includes(id));
  const stale = models.filter((m) => singlePlanHash.get(m.model) !== m.planHash).map((m) => m.model);
  if (missing.length || stale.length) {
    throw new Error(`bench/lean-results.json is not of today's single plans (${[...missing.map((id) => `${id} missing`), ...stale.map((id) => `${id} measured on another plan`)].join(', ')}): run nice -n 10 npx tsx bench/lean.ts`);
  }
  const { machine } = record;
  const after = models.map((m) => m.after);
  const before = models.map((m) => m.before);
  const row = (m: LeanModelRecord, name: 'before' | 'after') => {
    const p = m[name];
    return `| \`${m.model}\` | ${name} | ${p.parameters} | ${p.regions} | ${bytes(p.upBytes)} | ${bytes(p.downBytes)} | ${bytes(p.keyBytes)} | ${p.evalMs.toFixed(1)} | ${bits(p.marginBeforeFloodBits)} | ${p.floodBits} | ${p.marginAfterFloodBits === null ? 'does not fit' : bits(p.marginAfterFloodBits)} | ${p.exact ? 'yes' : 'no'} |`;
  };
  const table = [
    `Figures from \`nice -n 10 npx tsx bench/lean.ts\` (\`bench/lean-results.json\`, ${record.date.slice(0, 10)}, ${machine.cores} cores${machine.cpu ? ` of ${machine.cpu.trim()}` : ''}, load average ${machine.loadAverageAtStart} at the start and ${machine.loadAverageAtEnd} at the end; times are medians of ${record.repeats} runs and, where the load exceeds the cores, upper bounds), on fully packed ciphertexts: every region holding a unit's extreme record, then random ones.`,
    '',
    '| model | plan | parameters | regions | up B | down B | keys B | eval ms | margin before flood | flood bits f | margin after | exact |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...models.flatMap((m) => [row(m, 'before'), row(m, 'after')]),
  ].join('\n');

  const part = (name: string) => after.map((p) => p.evalParts[name] ?? NaN);
  const ms = (n: number) => n.toFixed(1);
  const steps = [
    '- **The quadratic form instead of the slot circuit.** One plaintext product leaves',
    `  ${range(after.map((p) => p.marginBeforeFloodBits))} bits of noise budget, where the mask, rotations and square took all of degree 4096's modulus`,
    `  (protocol 1's study, below: every n = 4096 chain was inexact). Keys: ${range(before.map((p) => p.keyBytes), bytes)} B of Galois and relinearization keys become a`,
    `  ${range(after.map((p) => p.keyBytes), bytes)} B public key (seeded, zstd). The circuit itself takes`,
    `  ${range(part('multiplyPlain'), ms)} ms (the product) and ${range(part('addPlain'), ms)} ms (adding C).`,
    `- **Degree 4096.** The input is a seeded ciphertext at two data primes: ${range(models.map((m) => m.steps.upUncompressed), bytes)} B`,
    `  instead of ${range(before.map((p) => p.upBytes), bytes)} B; with SEAL's zstd (the c0 words are below 47-bit primes) ${range(after.map((p) => p.upBytes), bytes)} B.`,
    `- **A sparse result.** The flooded product as SEAL's words would be ${range(models.map((m) => m.steps.downSealWords), bytes)} B (two`,
    '  primes). Brought to 2^k at k1 bits for c1 and k0 for c0 (the widths the compiler derives from',
    `  the flood, \`plan.circuit.result\`: k0 + k1 = ${range(models.map((m) => m.circuit.result.k0 + m.circuit.result.k1))} bits) it is`,
    `  ${range(models.map((m) => m.steps.downEveryPosition), bytes)} B with c0 at every coefficient; with c0 only at the k output positions the`,
    `  client reads, ${range(after.map((p) => p.downBytes), bytes)} B.`,
    `- **The flood** (below) costs f = ${range(after.map((p) => p.floodBits))} bits of the data level's 93, which is why the`,
    `  data level has two primes as large as degree 4096 allows (${range(after.map((p) => p.marginAfterFloodBits ?? NaN))} bits are left at the`,
    "  output positions after flooding and packing; the compiler requires 1, since every term of the",
    `  noise has a deterministic bound), and ${range(part('flood'), ms)} ms per result (a public-key`,
    `  encryption of zero), plus ${range(part('pack'), ms)} ms to pack it (BigInt arithmetic).`,
    '',
    'Evaluation as a request runs it (inflating and loading the input, the product, the flood, the',
    `packing): ${range(after.map((p) => p.evalMs), ms)} ms here against the old plan's ${range(before.map((p) => p.evalMs), ms)} ms in the same run.`,
  ].join('\n');

  const privacy = [
    '**Circuit privacy.** After the product the server adds an encryption of zero under the client\'s',
    'public key (so c1 is uniform and independent of the weights, under RLWE) whose c0 carries noise',
    'drawn uniformly from [−2^f, 2^f) at every coefficient (`src/core/he/rerandomize.ts`). The client',
    'is sent c0 only at the k output positions, so only those coefficients\' noise could tell it',
    'anything: there the product\'s noise is at most b = 21.5 · ||v||₁ + 1 (SEAL\'s fresh noise lies in',
    '[−21, 21], the scaling rounds by 1/2, the product multiplies both by ||v||₁, adding C rounds by 1/2',
    'more: a bound from the weights, not a measurement), and a uniform flood on 2^(f+1) values moves',
    'each coefficient\'s distribution by at most b/2^f in statistical distance, k·b/2^f in all. With',
    `f = ⌈log2 b⌉ + ⌈log2 k⌉ + 40 the distance is at most 2^−40: ${models.map((m) => `${m.model} 2^${m.steps.distanceLog2.toFixed(1)} (||v||₁ = ${bytes(Number(m.steps.weightL1))}, k = ${m.circuit.regions})`).join(', ')}.`,
    'The packing that follows is public post-processing of the flooded ciphertext: it adds nothing the',
    'client could not compute itself.',
  ].join('\n');
  const modelPrivacy = [
    '**Model privacy.** (C, v) is the model\'s function itself. A client choosing its records can',
    `solve for it from about L outputs (L = ${range(models.map((m) => m.circuit.regionLength))} for the default models), as it could with any`,
    'circuit computing the same function, the old one included; sending products leaks nothing more,',
    'and a flooded result not even W. The units behind the form (W, α, β, t) never leave the server,',
    'and different units can make the same form.',
  ].join('\n');

  const flood = models.flatMap((m) => m.refused.filter((r) => r.reason.startsWith('the flood does not fit')).map((r) => numbersIn(r.reason, /(\d+) bits of flooding .* need about (\d+) bits .* which leaves (\d+)$/, m.model)));
  const wide = models.flatMap((m) => m.refused.filter((r) => r.parameters.startsWith('BFV n=8192')).map((r) => numbersIn(r.reason, /upload (\d+) B > \d+ B; download (\d+) B > \d+ B$/, m.model)));
  if (flood.length !== models.length || wide.length !== models.length) throw new Error('bench/lean-results.json: every model needs its degree-2048 and degree-8192 refusals for docs/protocol.md §9');
  const refused = [
    '**Refused.** Degree 2048 (54 bits of modulus at 128-bit security) cannot hold the flood: the',
    `compiler refuses it for every default model ("the flood does not fit": f = ${range(flood.map((n) => n[0]!))} bits need about`,
    `${range(flood.map((n) => n[1]!))} bits of the data level above t, which leaves ${range(flood.map((n) => n[2]!))}). Degree 8192 holds anything, and the`,
    `compiler proves it exact, but its input is ${range(wide.map((n) => n[0]!), bytes)} B (two 60-bit primes, over 64 KiB) and its`,
    `result ${range(wide.map((n) => n[1]!), bytes)} B (over 32 KiB): refused on size.`,
  ].join('\n');
  return { 'lean-table': table, 'lean-steps': steps, 'lean-privacy': privacy, 'lean-model-privacy': modelPrivacy, 'lean-refused': refused };
}

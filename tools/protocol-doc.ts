/**
 * The examples of docs/protocol.md, generated from what the service serves, so that they cannot
 * drift from it: the default models (models/*.json) are parsed with parseModel, both plans are
 * compiled with compilePlan (real SEAL, as the server's workers do) and the cards are built with
 * makeModelCard, exactly as src/server/registry.ts builds them. Limits come from the constants
 * and the server's configuration defaults; §9's figures come from the lean bench's record
 * (tools/lean-doc.ts).
 *
 * The page marks each generated part with `<!-- generated:NAME -->` … `<!-- /generated:NAME -->`.
 * `npm run docs:protocol` rewrites them in place; `npm run docs:protocol -- --check` only says
 * whether the page is current; tests/protocol-doc.test.ts fails when it is not.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compilePlan, LAYOUTS, coeffModulusBits, type HePlan, type LayoutName } from '../src/core/he/index.ts';
import { keyIdOf } from '../src/core/he/types.ts';
import { featureVector, regionLengthFor } from '../src/core/he/quadratic.ts';
import { canonicalJson } from '../src/core/hash.ts';
import { makeModelCard, type ModelCard } from '../src/core/model/card.ts';
import { MODEL_LIMITS, parseModel, sealModel, type ModelBody, type TernaryModel } from '../src/core/model/format.ts';
import { decodeProbability, decodeRisk, outputBound, qMax, quantizeRecord, referenceScore } from '../src/core/model/reference.ts';
import { validateRows } from '../src/core/data/validate.ts';
import { MESSAGE_LIMITS } from '../src/core/protocol/bounds.ts';
import { MAX_CIPHERTEXTS } from '../src/core/protocol/constants.ts';
import { configFromEnv } from '../src/server/config.ts';
import { modelsDir, repoRoot } from '../src/cli/paths.ts';
import { type LeanRecord, leanRegions, readLeanRecord } from './lean-doc.ts';

export const PROTOCOL_DOC = resolve(repoRoot, 'docs/protocol.md');

/** A default model as the service serves it: the parsed file and its public card. */
export interface ServedDefault {
  model: TernaryModel;
  card: ModelCard;
}

let served: Promise<ServedDefault[]> | undefined;

/** Every model file in models/, compiled and carded as the server does it (once per process). */
export function servedDefaults(): Promise<ServedDefault[]> {
  served ??= (async () => {
    const files = (await readdir(modelsDir)).filter((f) => f.endsWith('.json')).sort();
    const out: ServedDefault[] = [];
    for (const file of files) {
      const model = parseModel(JSON.parse(await readFile(resolve(modelsDir, file), 'utf8')));
      const plans = {} as Record<LayoutName, HePlan>;
      for (const layout of LAYOUTS) plans[layout] = await compilePlan(model, layout);
      out.push({ model, card: makeModelCard(model, plans) });
    }
    return out.sort((a, b) => a.model.id.localeCompare(b.model.id));
  })();
  return served;
}

// ---------------------------------------------------------------- formatting

/** JSON for reading: objects of scalars and arrays of scalars on one line, the rest indented. */
function formatJson(value: unknown, indent = ''): string {
  const scalar = (v: unknown) => v === null || typeof v !== 'object';
  if (scalar(value)) return JSON.stringify(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.every(scalar)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.every(([, v]) => scalar(v))) return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')} }`;
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

const code = (s: string | number) => `\`${s}\``;
const short = (hash: string) => `${hash.slice(0, 12)}…`;
const list = (xs: readonly (string | number)[]) => `[${xs.join(', ')}]`;

function bytes(n: number): string {
  const MiB = 1024 * 1024;
  return n % MiB === 0 ? `${n / MiB} MiB (${n.toLocaleString('en-US')} bytes)` : `${n.toLocaleString('en-US')} bytes`;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A slot vector as runs of equal values: `v[0..15] = 1`. */
function runs(v: BigInt64Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let s = 1; s <= v.length; s++) {
    if (s < v.length && v[s] === v[start]) continue;
    out.push(`v[${start}..${s - 1}] = ${v[start]}`);
    start = s;
  }
  return out;
}

function byId(all: readonly ServedDefault[], id: string): ServedDefault {
  const found = all.find((s) => s.model.id === id);
  if (!found) throw new Error(`docs/protocol.md shows the default model "${id}", which models/ no longer has`);
  return found;
}

// ---------------------------------------------------------------- regions

/** §3: the Framingham card as served, with each plan's measured `report` left out. */
function cardRegion(all: readonly ServedDefault[]): string {
  const { card } = byId(all, 'framingham-chd');
  const plans = Object.fromEntries(Object.entries(card.plans).map(([layout, plan]) => {
    const { report: _measured, ...rest } = plan!;
    return [layout, rest];
  }));
  return ['```json', formatJson({ ...card, plans }), '```'].join('\n');
}

/** §3: the plans of every default model. */
function plansRegion(all: readonly ServedDefault[]): string {
  const rows: string[][] = [];
  for (const { card } of all) {
    for (const layout of LAYOUTS) {
      const p = card.plans[layout]!;
      const c = p.circuit;
      rows.push([
        code(card.id),
        code(layout),
        code(short(p.hash)),
        `${p.params.scheme}, n = ${p.params.polyModulusDegree}, q = ${coeffModulusBits(p.params).join(' + ')} bits`,
        code(p.params.plainModulus),
        String(p.outputBound),
        `${p.featureCount} / ${p.recordsPerInput} / ${p.ciphertextsPerInput}`,
        c.layout === 'batch' ? `${c.switchBeforeSquare} / ${c.switchAfterSquare}` : '–',
        c.layout === 'single' ? `${c.regionLength} / ${c.regions} / ${c.floodBits} / ${c.result.k0}, ${c.result.k1}` : '–',
        `${p.keys.relin} / ${p.keys.publicKey}`,
        code(list(p.galoisSteps)),
      ]);
    }
  }
  return table(['model', 'layout', 'plan hash', 'params', 'plainModulus', 'outputBound', 'featureCount / recordsPerInput / ciphertextsPerInput', 'switchBefore / AfterSquare', 'single: regionLength / regions / floodBits / result k0, k1', 'keys: relin / publicKey', 'galoisSteps'], rows);
}

/** §4.3: which zeros are missing values, per default model. */
function missingRegion(all: readonly ServedDefault[]): string {
  const rows = all.map(({ card }) => {
    if (card.missingAsZero.length === 0) return [code(card.id), code('[]'), 'none: every 0 is a measured 0'];
    const ranges = card.missingAsZero.map((name) => {
      const f = card.features.find((x) => x.name === name)!;
      return `${code(name)} ${f.min}–${f.max}${f.unit ? ` ${f.unit}` : ''}`;
    });
    return [code(card.id), code(JSON.stringify(card.missingAsZero)), ranges.join(', ')];
  });
  return table(['model', '`missingAsZero`', 'those features and their ranges (a measured 0 would be out of range)'], rows);
}

/** A record the page works through, as one CSV row whose header is the card's feature names. */
export interface Example {
  id: string;
  layout: LayoutName;
  cells: string[];
  what: string;
}

export const EXAMPLES: readonly Example[] = [
  {
    id: 'pima-diabetes',
    layout: 'batch',
    cells: ['8', '125', '0', '0.232', '54'],
    what: 'the tenth row of the Pima data set (the columns the model reads); its BMI is 0, which that data set writes for "not measured"',
  },
  {
    id: 'framingham-chd',
    layout: 'single',
    cells: ['1', '61', '30', '0', '0', '1', '0', '225', '150', '95', '28.58', '65', ''],
    what: 'a record whose glucose was left empty',
  },
];

/** An example read as the app reads records (§4.3), with its quantized form and reference score. */
export function workedExample(all: readonly ServedDefault[], ex: Example) {
  const { model, card } = byId(all, ex.id);
  const csv = { source: 'example.csv', columns: card.features.map((f) => f.name), rows: [ex.cells], lines: [2] };
  const checked = validateRows(card.features, csv, { missingAsZero: card.missingAsZero });
  if (checked.records.length !== 1) throw new Error(`example ${ex.id}: ${checked.problems.map((p) => p.message).join('; ')}`);
  const values = checked.records[0]!.values;
  const q = quantizeRecord(card, values);
  /** What a client that ignores missingAsZero makes of the row. */
  const unaware = validateRows(card.features, csv, {});
  return { card, plan: card.plans[ex.layout]!, values, q, y: referenceScore(model, q), unaware };
}

/** §4.7: records worked through quantization, packing and decoding, with the reference score. */
function examplesRegion(all: readonly ServedDefault[]): string {
  const parts: string[] = [];
  for (const ex of EXAMPLES) {
    const { card, plan, values, q, y, unaware } = workedExample(all, ex);
    const { mean, std, scale, impute } = card.input;
    const rows = card.features.map((f, i) => {
      const x = values[i] ?? impute[i]!;
      const raw = ((x - mean[i]!) / std[i]!) * scale;
      const cell = ex.cells[i] === '' ? '(empty)' : ex.cells[i]!;
      const read = values[i] === null ? `missing → impute ${impute[i]}` : String(values[i]);
      return [String(i), code(f.name), cell, read, raw.toFixed(4), String(q[i])];
    });
    const logit = card.output.scale * y + card.output.bias;
    const balanced = decodeProbability(card.output, y);
    const risk = decodeRisk(card.output, y);
    const positive = balanced >= 0.5;
    parts.push(`**${card.id}**, ${ex.what} (card \`input.bits\` = ${card.input.bits}, so qMax = ${qMax(card.input)}; \`input.scale\` = ${scale}):`);
    parts.push('');
    parts.push(table(['i', 'feature', 'cell', 'read as', '(x − mean) / std · scale', 'q'], rows));
    parts.push('');
    if (ex.layout === 'single') {
      const L = regionLengthFor(q.length);
      const v = new BigInt64Array(plan.params.polyModulusDegree);
      featureVector(q).forEach((z, m) => (v[m] = BigInt(z)));
      parts.push(`Packed for the \`single\` plan ${code(short(plan.hash))} as region 0 (L = \`regionLength\` = ${L}: the ${q.length} values, then their pairwise products q_i·q_k for i ≤ k; n = ${plan.params.polyModulusDegree} coefficients), the plaintext polynomial's coefficients are:`);
      parts.push('');
      parts.push('```', ...runs(v), '```');
    } else {
      parts.push(`Packed for the \`batch\` plan ${code(short(plan.hash))} as record r = 0: slot 0 of ciphertext j holds q_j (${list(Array.from(q))}); its other ${plan.params.polyModulusDegree - 1} slots hold the other records of the batch, or 0.`);
    }
    parts.push('');
    parts.push(`Decrypting the result gives y = ${code(y)} (the integer reference of §8). Then logit = ${card.output.scale} · y + (${card.output.bias}) = ${code(logit)}; the balanced probability 1 / (1 + e^−logit) = ${balanced.toFixed(6)} is ${positive ? '≥' : '<'} 0.5, so the prediction is ${code(JSON.stringify(card.classes[positive ? 1 : 0]))}; the risk with \`prior\` = ${card.output.prior} is ${risk.toFixed(6)}.`);
    if (unaware.records.length === 0) {
      parts.push('');
      parts.push(`A client that ignored \`missingAsZero\` would refuse this row: ${unaware.problems.map((p) => p.message.replace(/^example\.csv row \d+, /, '')).join('; ')}.`);
    }
    parts.push('');
  }
  return parts.join('\n').trimEnd();
}

/** §4.2: key id test vectors. */
function keyIdRegion(): string {
  const relin = Uint8Array.of(1, 2, 3);
  const publicKey = Uint8Array.of(4, 5);
  return [
    '```',
    `relin = 01 02 03, galois = nil, publicKey = nil    → hashed bytes 0000000000000003 010203 0000000000000000 0000000000000000`,
    `                                                    → keyId ${keyIdOf(relin, null, null)}`,
    `relin = nil, galois = nil, publicKey = 04 05       → hashed bytes 0000000000000000 0000000000000000 0000000000000002 0405`,
    `                                                    → keyId ${keyIdOf(null, null, publicKey)}`,
    '```',
  ].join('\n');
}

/** A made-up model small enough to follow by hand: §8's example of the file and the arithmetic. */
const TINY_MODEL: ModelBody = {
  format: 'cipherclinic/ternarynet',
  version: 1,
  id: 'tiny-example',
  title: 'Tiny example',
  description: 'Two features, three hidden units: for following the arithmetic by hand.',
  classes: ['no', 'yes'],
  features: [
    { name: 'age', label: 'Age', unit: 'years', min: 18, max: 110, kind: 'number' },
    { name: 'smoker', label: 'Current smoker', unit: '', min: 0, max: 1, kind: 'binary' },
  ],
  input: { bits: 4, scale: 2, mean: [50, 0.5], std: [10, 0.5], impute: [50, 0] },
  hidden: { weights: [[1, -1], [1, 1], [0, 1]], alpha: [2, 1, 3], beta: [1, -2, 0] },
  output: { weights: [1, -1, 1], scale: 0.01, bias: -0.5, prior: 0.2 },
};

function modelFileRegion(): string {
  const model = sealModel(TINY_MODEL);
  const { hash, ...body } = model;
  const record = [63, null];
  const q = quantizeRecord(model, record);
  const h = model.hidden.weights.map((row) => row.reduce<number>((s, w, i) => s + w * q[i]!, 0));
  const u = h.map((x, j) => model.hidden.alpha[j]! * x + model.hidden.beta[j]!);
  const y = referenceScore(model, q);
  const signed = (n: number) => (n < 0 ? `(${n})` : String(n));
  const terms = u.map((x, j) => `${signed(model.output.weights[j]!)}·${signed(x)}²`).join(' + ');
  return [
    '```json',
    formatJson({ ...body, hash }),
    '```',
    '',
    'Its canonical JSON (RFC 8785; `hash` left out), whose SHA-256 is the `hash` above:',
    '',
    '```',
    canonicalJson(body),
    '```',
    '',
    `For the record age = 63, smoker missing (→ impute ${model.input.impute[1]}), with qMax = ${qMax(model.input)}: q = ${list(Array.from(q))}; h = W·q = ${list(h)}; u = α·h + β = ${list(u)}; y = ${terms} = ${y}. Its \`outputBound\` is ${outputBound(model)}.`,
  ].join('\n');
}

/** §2 and §8: limits, from the constants and the server's defaults. */
function limitsRegion(): string {
  const config = configFromEnv({});
  return table(
    ['limit', 'value', 'where it is set'],
    [
      ['requests per minute per client address (not counting `/api/health`, `/api/ready`)', String(config.rateLimitPerMinute), '`CIPHERCLINIC_RATE_LIMIT`'],
      ['body of `POST /api/models/{id}/classify`', bytes(config.maxClassifyBytes), '`CIPHERCLINIC_MAX_CLASSIFY_BYTES`'],
      ['body of `POST /api/keys`', bytes(config.maxKeyBytes), '`CIPHERCLINIC_MAX_KEY_BYTES`'],
      ['JSON body (`POST /api/admin/models`)', bytes(config.maxJsonBytes), '`CIPHERCLINIC_MAX_JSON_BYTES`'],
      ['time one evaluation may take, queue wait included', `${config.taskTimeoutMs / 1000} s`, '`CIPHERCLINIC_TASK_TIMEOUT_MS`'],
      ['keys are kept after their last registration', `${config.keyTtlSeconds / 3600} h`, '`CIPHERCLINIC_KEY_TTL_SECONDS`'],
      ['MessagePack nesting (the message map is depth 1)', String(MESSAGE_LIMITS.maxDepth), 'protocol (`MESSAGE_LIMITS.maxDepth`)'],
      ['MessagePack elements declared by all containers together (a map entry counts 2)', MESSAGE_LIMITS.maxElements.toLocaleString('en-US'), 'protocol (`MESSAGE_LIMITS.maxElements`)'],
      ['ciphertexts in one `classify` message (the plan fixes the exact count)', String(MAX_CIPHERTEXTS), 'protocol (`MAX_CIPHERTEXTS`)'],
      ['model file: `id`', `at most ${MODEL_LIMITS.idLength} characters matching \`^[a-z0-9][a-z0-9-]*$\``, 'model format (`MODEL_LIMITS`)'],
      ['model file: features', `1 to ${MODEL_LIMITS.features}`, 'model format'],
      ['model file: hidden units', `1 to ${MODEL_LIMITS.hiddenUnits}`, 'model format'],
      ['model file: JSON nesting (`training` included)', String(MODEL_LIMITS.depth), 'model format'],
    ],
  );
}

/** Every generated part of the page, by region name. */
export function protocolRegions(all: readonly ServedDefault[], lean: LeanRecord): Record<string, string> {
  const singlePlans = new Map(all.flatMap(({ model, card }) => (card.plans.single ? [[model.id, card.plans.single.hash] as const] : [])));
  return {
    limits: limitsRegion(),
    card: cardRegion(all),
    plans: plansRegion(all),
    'key-id': keyIdRegion(),
    'missing-as-zero': missingRegion(all),
    examples: examplesRegion(all),
    'model-file': modelFileRegion(),
    ...leanRegions(lean, singlePlans),
  };
}

// ---------------------------------------------------------------- the page

const REGION = /<!-- generated:([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/generated:\1 -->/g;

/** The generated regions a page holds now, by name (content without the final newline). */
export function readRegions(doc: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, name, content] of doc.matchAll(REGION)) {
    if (name! in found) throw new Error(`docs/protocol.md has two regions named "${name}"`);
    found[name!] = content!.replace(/\n$/, '');
  }
  return found;
}

/** The page with every region replaced; throws when the page and the generator disagree on names. */
export function fillRegions(doc: string, regions: Record<string, string>): string {
  const present = Object.keys(readRegions(doc));
  const missing = Object.keys(regions).filter((name) => !present.includes(name));
  const unknown = present.filter((name) => !(name in regions));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`docs/protocol.md regions: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unknown.length ? '; ' : ''}${unknown.length ? `unknown ${unknown.join(', ')}` : ''}`);
  }
  return doc.replace(REGION, (_m, name: string) => `<!-- generated:${name} -->\n${regions[name]}\n<!-- /generated:${name} -->`);
}

/** Rewrites docs/protocol.md in place (or, with `check`, only says whether it is current). */
export async function updateProtocolDoc(options: { check?: boolean; path?: string } = {}): Promise<{ changed: boolean }> {
  const path = options.path ?? PROTOCOL_DOC;
  const doc = await readFile(path, 'utf8');
  const next = fillRegions(doc, protocolRegions(await servedDefaults(), await readLeanRecord()));
  const changed = next !== doc;
  if (changed && !options.check) await writeFile(path, next);
  return { changed };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const check = process.argv.includes('--check');
  updateProtocolDoc({ check }).then(
    ({ changed }) => {
      if (check && changed) {
        console.error('docs/protocol.md is out of date: run npm run docs:protocol');
        process.exitCode = 1;
      } else console.log(changed ? 'docs/protocol.md: generated regions rewritten' : 'docs/protocol.md: up to date');
    },
    (e: Error) => {
      console.error(e.message);
      process.exitCode = 1;
    },
  );
}

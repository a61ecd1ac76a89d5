/**
 * The cipherclinic command as a user runs it: a real process, real files, JSON on stdout,
 * one-line errors and non-zero exits for bad input.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedDataDir } from '../src/cli/paths.ts';

const run = promisify(execFile);
const bin = resolve(repoRoot, 'bin/cipherclinic.mjs');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: repoRoot, timeout: 170_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let csv: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cipherclinic-cli-'));
  // 300 rows of the Pima data: enough to train, small enough to stay quick.
  const text = await readFile(resolve(sharedDataDir(), 'pima_indians_diabetes.csv'), 'utf8');
  csv = join(dir, 'pima.csv');
  await writeFile(csv, text.split('\n').slice(0, 301).join('\n') + '\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Spec = { features: Record<string, unknown>[]; [key: string]: unknown };

/** Pima's spec with one change, written to a file of its own. */
async function specWith(name: string, change: (spec: Spec) => void): Promise<string> {
  const spec = JSON.parse(await readFile(resolve(repoRoot, 'models/specs/pima-diabetes.json'), 'utf8'));
  change(spec);
  const f = join(dir, `${name}.spec.json`);
  await writeFile(f, JSON.stringify(spec));
  return f;
}
const glucose = (spec: Spec) => spec.features[1]!.monotone as Record<string, unknown>;

describe('train, plan, eval', () => {
  const model = () => join(dir, 'model.json');
  /** The directions of risk Pima's spec declares (glucose, BMI, the pedigree function and age, all non-decreasing), in feature order. */
  const declaredByPima: { name: string; monotone: { direction: string } }[] = JSON.parse(readFileSync(resolve(repoRoot, 'models/specs/pima-diabetes.json'), 'utf8')).features.filter((f: { monotone?: unknown }) => f.monotone);
  /** What --json says of them, all proved. */
  const provedByPima = declaredByPima.map(({ name: feature, monotone: { direction } }) => ({ feature, direction, proved: true, margin: expect.any(Number) }));
  /** The plain output's line for each of them. */
  const expectProvedLines = (stdout: string) => {
    expect(declaredByPima.map((f) => f.name)).toContain('glucose');
    for (const { name: feature } of declaredByPima) expect(stdout).toMatch(new RegExp(`^proved: the risk never falls as "${feature}" rises \\(least change per step: \\d+ in the integer output\\)$`, 'm'));
  };

  it('trains and reports held-out metrics of all three models as JSON', async () => {
    const r = await cli('train', csv, '--out', model(), '--hidden', '6', '--epochs', '40', '--batch-size', '32', '--seed', '3', '--spec', resolve(repoRoot, 'models/specs/pima-diabetes.json'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toBe(model());
    expect(out.heldOut).toEqual({ rows: 60, seed: 3 });
    for (const key of ['float', 'ternary', 'logistic']) {
      expect(Object.keys(out[key]).sort()).toEqual(['accuracy', 'auc', 'balancedAccuracy']);
      expect(out[key].accuracy).toBeGreaterThan(0.5);
    }
    const saved = JSON.parse(await readFile(model(), 'utf8'));
    expect(out.hash).toBe(saved.hash);
    // Pima's spec sums its two best runs (training.ensemble): up to twice the units of one run.
    expect(saved.training.ensemble).toHaveLength(2);
    expect(saved.hidden.weights.length).toBeLessThanOrEqual(12);
    expect(saved.training).toMatchObject({ epochs: 40, batchSize: 32, seed: 3, hiddenUnits: 6 });
    expect(out.monotone).toEqual(provedByPima);
  });

  it('with --repeats, reports mean, spread and worst split of every metric, Brier score included, and keeps the declared monotone constraints', async () => {
    const out2 = join(dir, 'repeated.json');
    const r = await cli('train', csv, '--out', out2, '--hidden', '4', '--epochs', '8', '--batch-size', '64', '--repeats', '2', '--spec', resolve(repoRoot, 'models/specs/pima-diabetes.json'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const { repeated } = JSON.parse(r.stdout);
    expect(repeated.seeds).toEqual([1, 2]);
    expect(repeated.splits).toHaveLength(2);
    for (const kind of ['logistic', 'float', 'ternary']) {
      for (const metric of ['accuracy', 'balancedAccuracy', 'auc', 'brier']) {
        const m = repeated.summary[kind][metric];
        expect(m.values).toHaveLength(2);
        expect(m.mean).toBeCloseTo((m.values[0] + m.values[1]) / 2, 12);
        expect(m.worst).toBe(metric === 'brier' ? Math.max(...m.values) : Math.min(...m.values));
        expect(m.sd).toBeGreaterThanOrEqual(0);
      }
    }
    // The targets, against the better float baseline by mean balanced accuracy (docs/training.md).
    const better = repeated.summary.logistic.balancedAccuracy.mean > repeated.summary.float.balancedAccuracy.mean ? 'logistic' : 'float';
    expect(repeated.better).toBe(better);
    expect(repeated.targets.worstBalancedAccuracy).toEqual({ value: repeated.summary.ternary.balancedAccuracy.worst, limit: repeated.summary[better].balancedAccuracy.mean - 0.04, met: repeated.summary.ternary.balancedAccuracy.worst >= repeated.summary[better].balancedAccuracy.mean - 0.04 - 1e-12 });
    expect(repeated.targets.meanBrier.limit).toBeCloseTo(repeated.summary.float.brier.mean + 0.01, 12);
    const saved = JSON.parse(await readFile(out2, 'utf8'));
    expect(saved.features.filter((f: { monotone?: unknown }) => f.monotone).map((f: { name: string }) => f.name)).toEqual(declaredByPima.map((f) => f.name));
    expect(saved.training.monotone.verified.every((v: { margin: number }) => v.margin >= 0)).toBe(true);
    // The plan compiler proves them again before it compiles.
    const plan = await cli('plan', out2, '--json');
    expect(plan.code, plan.stderr).toBe(0);
  });

  it('refuses to plan a model that breaks a constraint it declares, naming feature and unit', async () => {
    const saved = JSON.parse(await readFile(model(), 'utf8'));
    const { hash: _h, ...body } = saved;
    // Declare the opposite of what the glucose constraint says: the trained model rises with glucose.
    body.features = body.features.map((f: { name: string; monotone?: { direction: string } }) => (f.name === 'glucose' ? { ...f, monotone: { direction: 'decreasing', reason: 'wrong on purpose', source: 'this test' } } : f));
    const { sealModel } = await import('../src/core/model/format.ts');
    const broken = join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify(sealModel(body)));
    const r = await cli('plan', broken);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/breaks its declared monotone constraints: the risk must never rise as "glucose" rises.*hidden unit \d+/);
  });

  describe('in plain text, with --label over the spec\'s label', () => {
    const out = () => join(dir, 'plain.json');
    let plain: ReturnType<typeof cli> | undefined;
    // One small training shared by the tests of its plain output.
    const trained = async () => (plain ??= cli('train', csv, '--out', out(), '--hidden', '2', '--epochs', '2', '--spec', await specWith('outcome', (s) => (s.label = 'outcome')), '--label', 'label'));

    it('trains on the column --label names, not the spec\'s', async () => {
      const r = await trained();
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(await readFile(out(), 'utf8')).training.label).toBe('label');
    });

    it('prints no TensorFlow.js banner asking for tfjs-node', async () => {
      const r = await trained();
      expect(r.stderr).not.toMatch(/Hi, looks like|tfjs-node|====/);
    });

    it('says which declared constraints were proved, with the verifier\'s margin', async () => {
      expectProvedLines((await trained()).stdout);
    });
  });

  it('eval warns, in the verifier\'s words, before the metrics of a default model made to break a constraint; --encrypted still refuses it', async () => {
    const { hash: _h, ...body } = JSON.parse(await readFile(resolve(repoRoot, 'models/pima-diabetes.json'), 'utf8'));
    body.features = body.features.map((f: { name: string; monotone?: object }) => (f.name === 'glucose' ? { ...f, monotone: { ...f.monotone, direction: 'decreasing' } } : f));
    const { sealModel } = await import('../src/core/model/format.ts');
    const broken = join(dir, 'flipped.json');
    await writeFile(broken, JSON.stringify(sealModel(body)));
    const plain = await cli('eval', broken, csv);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr.trim()).toMatch(/^warning: model "?pima-diabetes"? breaks its declared monotone constraints: [^\n]*"glucose"[^\n]*$/);
    expect(plain.stdout).toMatch(/plaintext reference/);
    const json = JSON.parse((await cli('eval', broken, csv, '--json')).stdout);
    expect(json.monotone).toContainEqual({ feature: 'glucose', direction: 'decreasing', proved: false, margin: expect.any(Number) });
    const encrypted = await cli('eval', broken, csv, '--encrypted');
    expect(encrypted.code).not.toBe(0);
    expect(encrypted.stderr).toMatch(/^cipherclinic: model .* breaks its declared monotone constraints/);
  });

  it('eval scores only the held-out rows of the file a model was trained on, and says so', async () => {
    const pima = resolve(repoRoot, 'models/pima-diabetes.json');
    const data = resolve(sharedDataDir(), 'pima_indians_diabetes.csv');
    const plain = await cli('eval', pima, data);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^held-out rows only: .*pima_indians_diabetes\.csv has the 768 rows the model was split from; the 614 that trained it are left out/m);
    const json = JSON.parse((await cli('eval', pima, data, '--json')).stdout);
    expect(json.records).toBe(154);
    // The very scores training recorded for the held-out split.
    expect(json.plaintext).toEqual(JSON.parse(await readFile(pima, 'utf8')).training.metrics.ternary);
    const all = await cli('eval', pima, data, '--all-rows');
    expect(all.stdout).toMatch(/^note: 614 of these 768 rows trained the model, so this score is inflated/m);
    expect(all.stdout).toMatch(/on 768 records/);
    expect(json.trainingData).toMatchObject({ rows: 768, matches: true });
    // Another file (here, its first 300 rows): the model cannot tell which rows it saw, so every
    // row is scored, with a note that rows it trained on would inflate the score.
    const other = await cli('eval', pima, csv, '--json');
    expect(JSON.parse(other.stdout)).not.toHaveProperty('split');
    expect(JSON.parse(other.stdout).trainingData).toEqual({ ...json.trainingData, matches: false });
    expect((await cli('eval', pima, csv)).stdout).toMatch(/^note: these are not the 768 rows the model was split from \(training\.data, SHA-256 [0-9a-f]{12}…\); if they hold rows it trained on .*, this score is inflated$/m);
    // The same rows written another way (columns reversed, CRLF line ends) are still its data:
    // the model records the SHA-256 of the rows as it reads them, not of the file's bytes.
    const lines = (await readFile(data, 'utf8')).trim().split('\n').map((l) => l.split(','));
    const reordered = join(dir, 'pima-reordered.csv');
    await writeFile(reordered, lines.map((cells) => [...cells].reverse().join(',')).join('\r\n') + '\r\n');
    expect(JSON.parse((await cli('eval', pima, reordered, '--json')).stdout).split).toEqual({ heldOut: 154, of: 768, scored: 'held-out' });
    // As many rows, one value changed: not the data the model was split from, so every row is scored.
    const edited = join(dir, 'pima-edited.csv');
    const glucose = lines[0]!.indexOf('glucose');
    await writeFile(edited, lines.map((cells, r) => (r === 1 ? cells.map((v, c) => (c === glucose ? String(Number(v) + 1) : v)) : cells).join(',')).join('\n') + '\n');
    const changed = JSON.parse((await cli('eval', pima, edited, '--json')).stdout);
    expect(changed).not.toHaveProperty('split');
    expect(changed.records).toBe(768);
  });

  it.each(['batch', 'single'])('plans the %s layout with the documented fields', async (layout) => {
    const r = await cli('plan', model(), '--layout', layout, '--json');
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    for (const key of ['scheme', 'polyModulusDegree', 'plainModulusBits', 'coeffModulusBits', 'layout', 'outputBound', 'noiseMarginBits', 'evaluationKeyBytes', 'uploadBytesPerRecord', 'downloadBytesPerRecord']) expect(p).toHaveProperty(key);
    expect(p.layout).toBe(layout);
    expect(p.noiseMarginBits).toBeGreaterThanOrEqual(p.requiredMarginBits);
    expect(p.requiredMarginBits).toBe(layout === 'batch' ? 10 : 1);
    expect(2 ** p.plainModulusBits).toBeGreaterThan(2 * p.outputBound);
    expect(p.monotone).toEqual(provedByPima);
  });

  it('plans in plain text, saying which declared constraints were proved', async () => {
    const r = await cli('plan', model());
    expect(r.code, r.stderr).toBe(0);
    expectProvedLines(r.stdout);
  });

  it('evaluates encrypted with full agreement', async () => {
    const r = await cli('eval', model(), csv, '--encrypted', '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    // The file the model was trained on: only its held-out 20 % is scored.
    expect(e.split).toEqual({ heldOut: 60, of: 300, scored: 'held-out' });
    expect(e.records).toBe(60);
    expect(e.encrypted.agreement).toBe(1);
    expect(e.encrypted.accuracy).toBe(e.plaintext.accuracy);
  });
});

describe('bad input', () => {
  async function expectOneLineError(args: string[], pattern: RegExp) {
    const r = await cli(...args);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }

  it('names a missing file', () => expectOneLineError(['eval', join(dir, 'nope.json'), csv], /nope\.json: no such model file/));

  it('names a missing column', async () => {
    const f = join(dir, 'nocol.csv');
    await writeFile(f, 'pregnancies,glucose,label\n1,2,0\n');
    await expectOneLineError(['eval', resolve(repoRoot, 'models/pima-diabetes.json'), f], /nocol\.csv,? column "bmi": is missing/);
  });

  it('names the row and column of a non-numeric cell', async () => {
    const f = join(dir, 'bad.csv');
    const text = await readFile(csv, 'utf8');
    const lines = text.split('\n');
    lines[5] = lines[5]!.replace(/^(\d+),(\d+)/, '$1,abc');
    await writeFile(f, lines.join('\n'));
    await expectOneLineError(['train', f, '--out', join(dir, 'x.json')], /bad\.csv row 6, column "glucose": "abc" is not a number/);
  });

  it('refuses a label column with one class before training', async () => {
    const f = join(dir, 'negatives.csv');
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    await writeFile(f, [lines[0], ...lines.slice(1).filter((l) => l.endsWith(',0'))].join('\n') + '\n');
    await expectOneLineError(['train', f, '--out', join(dir, 'x.json')], /negatives\.csv label column "label": every row is 0; training needs rows of both classes/);
  });

  it.each([
    ['train', csv],
    ['site', 'keygen'],
  ])('%s refuses an --out in a folder that does not exist, before any work', async (...args) => {
    // Training would have failed this way only at its end, with "cannot write (ENOENT)".
    await expectOneLineError([...args, '--out', join(dir, 'no-such-folder', 'x.json')], /x\.json: the folder .*no-such-folder does not exist$/);
  });

  it.each([
    [['train', 'x.csv', '--bogus'], 'cipherclinic train: unknown option --bogus (see cipherclinic train --help)'],
    [['eval', 'm.json', 'x.csv', '--label'], 'cipherclinic eval: --label needs a value (see cipherclinic eval --help)'],
    [['plan', 'm.json', '--json=yes'], 'cipherclinic plan: --json takes no value (see cipherclinic plan --help)'],
    [['site', 'keygen', '--bogus'], 'cipherclinic site keygen: unknown option --bogus (see cipherclinic site keygen --help)'],
  ])('names the command and its help for a refused option: %j', async (args, line) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
  });

  it('names a training option out of range', () => expectOneLineError(['train', csv, '--out', join(dir, 'x.json'), '--epochs', '0'], /--epochs must be a whole number of at least 1, not "0"/));

  it.each([
    [['train', 'x.csv', '--out', 'm.json', '--repeats', '1e3'], 'cipherclinic train: --repeats must be a whole number of at least 1, not "1e3"'],
    [['train', 'x.csv', '--out', 'm.json', '--seed', '0x2'], 'cipherclinic train: --seed must be a whole number of at least 0, not "0x2"'],
    [['eval', 'm.json', 'x.csv', '--repeats', '2'], 'cipherclinic eval: --repeats is not an option of eval (it belongs to train) (see cipherclinic eval --help)'],
    [['train', 'x.csv', '--out', 'm.json', '--all-rows'], 'cipherclinic train: --all-rows is not an option of train (it belongs to eval) (see cipherclinic train --help)'],
    [['plan', 'm.json', '--layout', 'rows'], 'cipherclinic plan: --layout must be "batch" or "single", not "rows"'],
  ])('refuses an option that is not a number in digits, or not of its command, before reading any file: %j', async (args, line) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
  });

  it('prints each command\'s own help', async () => {
    const train = await cli('train', '--help');
    expect(train.stdout).toMatch(/^usage: cipherclinic train <data\.csv> --out <model\.json>/);
    expect(train.stdout).toMatch(/--repeats N .*\n.*Brier score/);
    const evalHelp = await cli('eval', '--help');
    expect(evalHelp.stdout).toMatch(/--all-rows/);
    expect(evalHelp.stdout).not.toMatch(/--repeats/);
  });

  it('will not write the model over the data it reads', async () => {
    const copy = join(dir, 'copy.csv');
    const text = await readFile(csv, 'utf8');
    await writeFile(copy, text);
    await expectOneLineError(['train', copy, '--out', copy], /--out .*copy\.csv is the data file being read; the model needs a file of its own/);
    await expect(readFile(copy, 'utf8')).resolves.toBe(text);
    // Nor through a link to it.
    const link = join(dir, 'link.csv');
    await symlink(copy, link);
    await expectOneLineError(['train', copy, '--out', link], /--out .*link\.csv is the data file being read/);
    await expect(readFile(copy, 'utf8')).resolves.toBe(text);
  });

  it('refuses a spec whose features repeat a name or reverse a range before training, naming the spec', async () => {
    const twice = await specWith('twice', (s) => s.features.push({ ...s.features[0]! }));
    await expectOneLineError(['train', csv, '--out', join(dir, 'x.json'), '--spec', twice], /twice\.spec\.json: dataset spec pima-diabetes: feature "pregnancies" appears twice/);
    const reversed = await specWith('reversed', (s) => Object.assign(s.features[0]!, { min: 30, max: 3 }));
    await expectOneLineError(['train', csv, '--out', join(dir, 'x.json'), '--spec', reversed], /reversed\.spec\.json: dataset spec pima-diabetes: feature "pregnancies": min 30 is above max 3/);
  });

  it('reads only the model\'s columns: an id column of text does not stop eval, and one class is said', async () => {
    const pima = resolve(repoRoot, 'models/pima-diabetes.json');
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    const withId = join(dir, 'with-id.csv');
    await writeFile(withId, lines.map((l, r) => `${r === 0 ? 'patient_id' : `P${r}`},${l}`).join('\n') + '\n');
    const plain = JSON.parse((await cli('eval', pima, csv, '--json')).stdout);
    const read = await cli('eval', pima, withId, '--json');
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).plaintext).toEqual(plain.plaintext);
    // Without a spec, training reads every column: the message says why the id matters there.
    await expectOneLineError(['train', withId, '--out', join(dir, 'x.json')], /with-id\.csv row 2, column "patient_id": "P1" is not a number; without --spec every column but the label is a feature/);
    // Positives only: no AUC, and balanced accuracy is one class's recall; eval says so.
    const label = lines[0]!.split(',').indexOf('label');
    const ones = join(dir, 'ones.csv');
    await writeFile(ones, [lines[0], ...lines.slice(1).filter((l) => l.split(',')[label] === '1')].join('\n') + '\n');
    const one = await cli('eval', pima, ones);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^note: every scored row is "diabetes": ROC AUC needs rows of both classes \(–\)/m);
    expect(one.stdout).not.toMatch(/NaN/);
  });

  it('refuses an empty file', async () => {
    const f = join(dir, 'empty.csv');
    await writeFile(f, '');
    await expectOneLineError(['train', f, '--out', join(dir, 'x.json')], /empty\.csv/);
  });

  it('names the spec as the source of a label column the file lacks', async () => {
    const spec = await specWith('outcome-missing', (s) => (s.label = 'outcome'));
    await expectOneLineError(['train', csv, '--out', join(dir, 'x.json'), '--spec', spec], /pima\.csv column "outcome" \(the label named by .*outcome-missing\.spec\.json; choose another with --label\): is missing from the header/);
  });

  it('says that --label overrides the spec\'s label in the help', async () => {
    const r = await cli('--help');
    expect(r.stdout).toMatch(/--label.*overrides the spec's "label"/);
  });

  it.each([
    ['no-reason', (s) => delete glucose(s).reason, /no-reason\.spec\.json: dataset spec field features\.1\.monotone\.reason: a direction needs a reason: why medicine expects it/],
    ['empty-reason', (s) => (glucose(s).reason = ''), /empty-reason\.spec\.json: dataset spec field features\.1\.monotone\.reason: a direction needs a reason: why medicine expects it/],
    ['direction-up', (s) => (glucose(s).direction = 'up'), /direction-up\.spec\.json: dataset spec field features\.1\.monotone\.direction: a direction is "increasing" \(the risk never falls as the value rises\) or "decreasing"/],
    ['no-source', (s) => delete glucose(s).source, /no-source\.spec\.json: dataset spec field features\.1\.monotone\.source: a direction needs a source: the guideline or study/],
    ['ensemble-two', (s) => (s.training = { ensemble: 'two', why: 'a test' }), /ensemble-two\.spec\.json: dataset spec field training\.ensemble: .*expected number, received string/],
    ['monotone-string', (s) => (s.features[1]!.monotone = 'increasing'), /monotone-string\.spec\.json: dataset spec field features\.1\.monotone: .*expected object, received string/],
  ] as [string, (spec: Spec) => void, RegExp][])('names the field and the problem of a spec with %s', async (name, change, pattern) => {
    await expectOneLineError(['train', csv, '--out', join(dir, 'x.json'), '--spec', await specWith(name, change)], pattern);
  });

  it('refuses a damaged model file', async () => {
    const f = join(dir, 'damaged.json');
    const m = JSON.parse(await readFile(resolve(repoRoot, 'models/pima-diabetes.json'), 'utf8'));
    m.hidden.alpha[0] += 1;
    await writeFile(f, JSON.stringify(m));
    await expectOneLineError(['plan', f], /damaged\.json: model file hash .* does not match/);
  });
});

/**
 * A private training study end to end: the real coordinator (the service) on loopback, five
 * sites as in-process clients over HTTP running the same loop as `cipherclinic site join`, each
 * holding its own part of the Framingham data. The study ends with a model the encrypted
 * classifier serves; dropped sites are tolerated; bad messages get 4xx and harm no round.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSite, type SiteEvent, type StudyTransport } from '../src/core/federated/runner.ts';
import { decodeFederated, vectorFromBytes } from '../src/core/federated/messages.ts';
import { ternarize } from '../src/core/federated/network.ts';
import { deriveRng } from '../src/core/federated/prng.ts';
import { toZ32 } from '../src/core/federated/quantize.ts';
import { shapeOf, siteUpdate, studyInitialParameters, vectorLength } from '../src/core/federated/update.ts';
import { siteDataset, type SiteDataset } from '../src/core/federated/records.ts';
import { httpTransport } from '../src/core/federated/transport.ts';
import type { StudyStatus } from '../src/core/federated/round.ts';
import { encodeFederated } from '../src/core/federated/messages.ts';
import { Site } from '../src/core/federated/site.ts';
import { parseModel } from '../src/core/model/format.ts';
import { verifyMonotone } from '../src/core/model/monotone.ts';
import { API } from '../src/core/protocol/index.ts';
import { IndependentClient } from './support/independent-client.ts';
import { startTestServer, type TestServer } from './support/server-harness.ts';
import { framinghamStudy, framinghamTables, pooled, scoreModel, simulateStudy, type TestStudy } from './support/study.ts';
import { randomRecords } from './support/synthetic.ts';
import { referenceScore } from '../src/core/model/reference.ts';

const TOKEN = 'study-operator-token-0123456789';
const ROUNDS = 24;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ adminToken: TOKEN, modelDirs: [], workers: 1 });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function createStudy(study: TestStudy): Promise<Response> {
  return fetch(server.url + API.createStudy, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(study.manifest) });
}

function datasets(study: TestStudy, skew: 'even' | 'age'): SiteDataset[] {
  return framinghamTables(study.identities.length, skew).siteTables.map((t, k) => siteDataset(study.manifest, t, new Uint8Array(32).fill(k + 1)));
}

/** Site k's seed for its record sampling and rounding. */
const siteSeed = (k: number) => new Uint8Array(32).fill(100 + k);

/** Runs every site to the end of the study; `drop` decides per site, round and step. */
async function runStudy(study: TestStudy, data: SiteDataset[], drop: (site: number, round: number, step: string) => boolean = () => false) {
  const events: SiteEvent[][] = data.map(() => []);
  const finals = await Promise.all(
    data.map((d, k) =>
      runSite({
        study,
        identitySecretKey: study.identities[k]!.secretKey,
        data: d,
        transport: httpTransport(server.url, study.manifest.id),
        seed: siteSeed(k),
        pollMs: 25,
        onEvent: (e) => events[k]!.push(e),
        shouldAct: (round, step) => !drop(k + 1, round, step),
      }),
    ),
  );
  return { finals, events };
}

describe('a study across five hospitals', () => {
  let done: StudyStatus;
  let noiseless = NaN;

  it('trains a TernaryNet across sites and publishes it to the encrypted classifier', async () => {
    const study = framinghamStudy({ id: 'chd-even', rounds: ROUNDS });
    const created = await createStudy(study);
    expect(created.status, await created.clone().text()).toBe(201);
    expect(((await created.json()) as StudyStatus).study).toBe(study.hash);
    const { finals } = await runStudy(study, datasets(study, 'even'));
    done = finals[0]!;
    expect(done.state).toBe('done');
    expect(done.roundsDone).toBe(ROUNDS);
    expect(done.history.every((h) => h.outcome === 'done' && h.survivors.length === 5)).toBe(true);
    expect(done.model).toBe('chd-even');
    // Served like any model: its card, and an encrypted prediction equal to the reference.
    const card = (await (await fetch(server.url + API.model("chd-even"))).json()) as { description: string; trainedPrivately: { sites: number; rounds: number; epsilon: number | null } };
    const model = parseModel(JSON.parse(await readFile(join(server.dataDir, 'models', 'chd-even.json'), 'utf8')));
    expect((model.training as { federated: { sites: number; rounds: number } }).federated).toMatchObject({ sites: 5, rounds: ROUNDS });
    expect(card.description).toMatch(new RegExp(`across 5 sites in ${ROUNDS} rounds`));
    expect(card.trainedPrivately).toMatchObject({ sites: 5, rounds: ROUNDS, epsilon: null });
    const client = await IndependentClient.connect(server.url, 'chd-even', 'single');
    try {
      expect((await client.registerKeys()).status).toBe(201);
      const record = randomRecords(model, 1, 3)[0]!;
      expect(await client.classify([record])).toEqual([referenceScore(model, record)]);
    } finally {
      client.dispose();
    }
    // The published weights are the sum secure aggregation revealed, bit for bit: the same study's
    // arithmetic in process (no cryptography) gives the same layers.
    const data = datasets(study, 'even');
    const seeds = data.map((_, k) => siteSeed(k));
    const simulated = simulateStudy(study, data, seeds);
    expect({ hidden: model.hidden, output: model.output }).toEqual({ hidden: simulated.hidden, output: simulated.output });
    // Against the same procedure on pooled data, scored on the same rows (one run each; the
    // tolerance is the run-to-run spread: federated-parity.test.ts compares means over runs).
    const { test } = framinghamTables(5, 'even');
    const federated = scoreModel(model, test);
    const central = scoreModel(simulateStudy(study, [pooled(data)], [siteSeed(0)]), test);
    console.log(`federated (5 sites, even split, no noise): balanced accuracy ${federated.balancedAccuracy.toFixed(3)}, AUC ${federated.auc.toFixed(3)}; central, same procedure: ${central.balancedAccuracy.toFixed(3)}, ${central.auc.toFixed(3)}`);
    noiseless = federated.balancedAccuracy;
    expect(federated.auc).toBeGreaterThan(0.65);
    expect(Math.abs(federated.balancedAccuracy - central.balancedAccuracy)).toBeLessThan(0.05);
  }, 180_000);

  it('trains on a split skewed by age (each hospital a different age band) as well as centrally', async () => {
    const study = framinghamStudy({ id: 'chd-skewed', rounds: ROUNDS });
    expect((await createStudy(study)).status).toBe(201);
    const { finals } = await runStudy(study, datasets(study, 'age'));
    expect(finals[0]!.state).toBe('done');
    const model = parseModel(JSON.parse(await readFile(join(server.dataDir, 'models', 'chd-skewed.json'), 'utf8')));
    const data = datasets(study, 'age');
    const { test } = framinghamTables(5, 'age');
    const federated = scoreModel(model, test);
    const central = scoreModel(simulateStudy(study, [pooled(data)], [siteSeed(0)]), test);
    console.log(`federated (5 sites, skewed by age, no noise): balanced accuracy ${federated.balancedAccuracy.toFixed(3)}, AUC ${federated.auc.toFixed(3)}; central: ${central.balancedAccuracy.toFixed(3)}, ${central.auc.toFixed(3)}`);
    expect(federated.auc).toBeGreaterThan(0.6);
    expect(Math.abs(federated.balancedAccuracy - central.balancedAccuracy)).toBeLessThan(0.06);
  }, 180_000);

  it('with distributed noise stops at its privacy budget, and the card says the ε the accountant spent', async () => {
    const study = framinghamStudy({ id: 'chd-private-dp', rounds: 500, samplingRate: 0.1, privacy: { epsilon: 3, delta: 1e-5, noiseMultiplier: 2 } });
    expect((await createStudy(study)).status).toBe(201);
    const { finals } = await runStudy(study, datasets(study, 'even'));
    const status = finals[0]!;
    expect(status.state).toBe('done');
    expect(status.reason).toMatch(/privacy budget allows no further round/);
    expect(status.roundsDone).toBeLessThan(500);
    expect(status.privacy!.spent).toBeLessThanOrEqual(3);
    const model = parseModel(JSON.parse(await readFile(join(server.dataDir, 'models', 'chd-private-dp.json'), 'utf8')));
    const record = (model.training as { federated: { epsilon: number; delta: number } }).federated;
    expect(record.epsilon).toBe(status.privacy!.spent);
    expect(record.delta).toBe(1e-5);
    expect(model.description).toContain(`ε = ${status.privacy!.spent.toFixed(2)}`);
    const card = (await (await fetch(server.url + API.model('chd-private-dp'))).json()) as { trainedPrivately: { epsilon: number; delta: number; sites: number } };
    expect(card.trainedPrivately).toMatchObject({ epsilon: status.privacy!.spent, delta: 1e-5, sites: 5 });
    const { test } = framinghamTables(5, 'even');
    const noisy = scoreModel(model, test);
    console.log(`federated with noise (ε = ${status.privacy!.spent.toFixed(3)}, δ = 1e-5, ${status.roundsDone} rounds): balanced accuracy ${noisy.balancedAccuracy.toFixed(3)}, AUC ${noisy.auc.toFixed(3)}; without noise ${noiseless.toFixed(3)}`);
    expect(noisy.auc).toBeGreaterThan(0.55);
  }, 300_000);

  it('completes rounds with the exact sum when sites drop at every step, and a dropped site rejoins', async () => {
    const study = framinghamStudy({ id: 'chd-dropouts', rounds: 4, stepSeconds: 2 });
    expect((await createStudy(study)).status).toBe(201);
    // Round 1: site 5 never advertises. Round 2: site 4 drops after sharing (its mask key is
    // reconstructed). Round 3: site 3 skips the reveal. Round 4: everyone.
    const drops: Record<number, [number, string]> = { 1: [5, 'advertise'], 2: [4, 'upload'], 3: [3, 'reveal'] };
    const { finals, events } = await runStudy(study, datasets(study, 'even'), (site, round, step) => drops[round]?.[0] === site && drops[round]?.[1] === step);
    const status = finals[0]!;
    expect(status.state).toBe('done');
    const byRound = new Map(status.history.filter((h) => h.outcome === 'done').map((h) => [h.round, h]));
    expect(byRound.get(1)!.advertised).toEqual([1, 2, 3, 4]);
    expect(byRound.get(2)!.dropped).toEqual([4]);
    expect(byRound.get(2)!.survivors).toEqual([1, 2, 3, 5]);
    // The site that dropped in round 2 is back in round 3 with fresh keys.
    expect(byRound.get(3)!.survivors).toContain(4);
    expect(events[3]!.some((e) => e.kind === 'step' && e.round === 3 && e.step === 'uploaded')).toBe(true);
  }, 120_000);

  it('gives a bit-identical model file for the same seeds and participants', async () => {
    const study = framinghamStudy({ id: 'chd-twice', rounds: 5 });
    const files: string[] = [];
    for (const run of [0, 1]) {
      const other = run === 0 ? server : await startTestServer({ adminToken: TOKEN, modelDirs: [], workers: 1 });
      try {
        const created = await fetch(other.url + API.createStudy, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(study.manifest) });
        expect(created.status).toBe(201);
        const data = datasets(study, 'even');
        await Promise.all(data.map((d, k) => runSite({ study, identitySecretKey: study.identities[k]!.secretKey, data: d, transport: httpTransport(other.url, study.manifest.id), seed: new Uint8Array(32).fill(100 + k), pollMs: 25 })));
        files.push(await readFile(join(other.dataDir, 'models', 'chd-twice.json'), 'utf8'));
      } finally {
        if (other !== server) await other.stop();
      }
    }
    expect(files[1]).toBe(files[0]);
  }, 120_000);

  it('keeps the monotone constraints the manifest declares, proved on the published model', async () => {
    const study = framinghamStudy({ id: 'chd-monotone', rounds: 4, monotone: true });
    expect(study.manifest.features.filter((f) => f.monotone).length).toBeGreaterThan(0);
    expect((await createStudy(study)).status).toBe(201);
    const { finals } = await runStudy(study, datasets(study, 'even'));
    expect(finals[0]!.state, finals[0]!.reason).toBe('done');
    const model = parseModel(JSON.parse(await readFile(join(server.dataDir, 'models', 'chd-monotone.json'), 'utf8')));
    expect(model.features.filter((f) => f.monotone)).toHaveLength(study.manifest.features.filter((f) => f.monotone).length);
    expect(verifyMonotone(model).holds).toBe(true);
    expect((await fetch(server.url + API.model('chd-monotone'))).status).toBe(200);
  }, 120_000);

  it('shows the coordinator only masked uploads that look uniform, never an update', async () => {
    const study = framinghamStudy({ id: 'chd-view', rounds: 2 });
    expect((await createStudy(study)).status).toBe(201);
    const data = datasets(study, 'even');
    // Everything the coordinator received from the sites, as it received it.
    const received: { type: string; body: Uint8Array }[] = [];
    await Promise.all(
      data.map((d, k) => {
        const inner = httpTransport(server.url, study.manifest.id);
        const transport: StudyTransport = { ...inner, send: (type, body) => (received.push({ type, body }), inner.send(type, body)) };
        return runSite({ study, identitySecretKey: study.identities[k]!.secretKey, data: d, transport, seed: new Uint8Array(32).fill(100 + k), pollMs: 25 });
      }),
    );
    const bytesOf = (words: Uint32Array[]) => new Uint8Array(words.flatMap((w) => [...new Uint8Array(w.buffer, w.byteOffset, w.byteLength)]));
    const chi2 = (bytes: Uint8Array) => {
      const counts = new Array<number>(256).fill(0);
      for (const b of bytes) counts[b]!++;
      const expected = bytes.length / 256;
      return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    };
    const masked = received.filter((m) => m.type === 'masked').map((m) => vectorFromBytes(decodeFederated(m.body, 'masked').vector));
    expect(masked).toHaveLength(10);
    // The same sites' plain updates of round 1, recomputed here: what the coordinator must not see.
    const status = (await (await fetch(server.url + API.study('chd-view'))).json()) as StudyStatus;
    expect(status.state).toBe('done');
    const plain = data.map((d, k) => toZ32(siteUpdate(study.manifest, ternarize(studyInitialParameters(study.manifest, study.hash), shapeOf(study.manifest)), d.train, d.heldOut, deriveRng(new Uint8Array(32).fill(100 + k), 'site-update/round-1'))));
    // 255 degrees of freedom: the 0.1 % critical value is 330.5.
    expect(chi2(bytesOf(masked))).toBeLessThan(330.5);
    expect(chi2(bytesOf(plain))).toBeGreaterThan(1000);
    // And no received message carries a plain update's bytes.
    const needle = Buffer.from(bytesOf([plain[0]!.subarray(0, 16)]));
    expect(received.some((m) => Buffer.from(m.body).includes(needle))).toBe(false);
  }, 120_000);

  it('fails a round cleanly with fewer than t survivors, then goes on', async () => {
    const study = framinghamStudy({ id: 'chd-too-few', rounds: 2, stepSeconds: 2 });
    expect((await createStudy(study)).status).toBe(201);
    // Round 1: three of five sites drop before uploading: 2 uploads < t = 3.
    const { finals } = await runStudy(study, datasets(study, 'even'), (site, round, step) => round === 1 && site >= 3 && step === 'upload');
    const failed = finals[0]!.history.find((h) => h.round === 1)!;
    expect(failed.outcome).toBe('failed');
    expect(failed.reason).toMatch(/fewer than the threshold 3/);
    expect(finals[0]!.state).toBe('done');
    expect(finals[0]!.roundsDone).toBe(2);
  }, 120_000);

  it('waits for its sites instead of failing rounds nobody came to', async () => {
    const study = framinghamStudy({ id: 'chd-waiting', rounds: 2, stepSeconds: 1 });
    expect((await createStudy(study)).status).toBe(201);
    await new Promise((r) => setTimeout(r, 2600));
    const status = (await (await fetch(server.url + API.study('chd-waiting'))).json()) as StudyStatus;
    expect(status).toMatchObject({ state: 'running', round: 1, step: 'advertising', history: [] });
    // A late hospital still finds its study: all five come now, and it runs to the end.
    const { finals } = await runStudy(study, datasets(study, 'even'));
    expect(finals[0]!.state).toBe('done');
    expect(finals[0]!.history.every((h) => h.outcome === 'done')).toBe(true);
  }, 120_000);

  it('refuses an upload of the wrong length, and a body over the limit, with 4xx', async () => {
    const study = framinghamStudy({ id: 'chd-oversized', rounds: 1, stepSeconds: 30 });
    expect((await createStudy(study)).status).toBe(201);
    const post = (type: string, body: Uint8Array) => fetch(server.url + API.studyMessage('chd-oversized', type as 'masked'), { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body });
    const sites = study.identities.map((id) => new Site({ study, identitySecretKey: id.secretKey }));
    // Everyone advertises and shares, so the round reaches its uploading step.
    const started = await Promise.all(sites.map((s) => s.startRound(1)));
    for (const s of started) expect((await post('advertise', encodeFederated(s.advertise))).status).toBe(202);
    const roster = decodeFederated(new Uint8Array(await (await fetch(server.url + API.studyRound('chd-oversized', 1, 'roster'))).arrayBuffer()), 'roster');
    for (const s of started) expect((await post('shares', encodeFederated(await s.round.share(roster)))).status).toBe(202);
    const inbox = decodeFederated(new Uint8Array(await (await fetch(`${server.url}${API.studyRound('chd-oversized', 1, 'inbox')}?site=1`)).arrayBuffer()), 'inbox');
    const tooLong = await started[0]!.round.upload(inbox, new Uint32Array(vectorLength(study.manifest) + 1));
    const refused = await post('masked', encodeFederated(tooLong));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/this study's updates have/);
    expect((await post('masked', new Uint8Array(9 * 1024 * 1024))).status).toBe(413);
    const status = (await (await fetch(server.url + API.study('chd-oversized'))).json()) as StudyStatus;
    expect(status.step).toBe('uploading');
    await fetch(`${server.url}/api/admin/studies/chd-oversized/stop`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  }, 60_000);

  it('answers a long poll when the step closes, sends the weights at 2 bits a weight, and refuses bad queries', async () => {
    const study = framinghamStudy({ id: 'chd-long-poll', rounds: 1, stepSeconds: 30 });
    expect((await createStudy(study)).status).toBe(201);
    const base = server.url + API.study('chd-long-poll');
    // Nothing changes: the poll waits its full time and answers with the same step.
    const t0 = performance.now();
    const unchanged = (await (await fetch(`${base}?history=last&after=1.advertising&wait=300`)).json()) as StudyStatus;
    expect(unchanged.step).toBe('advertising');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // The last advertisement closes the step: a waiting poll answers then, not at its timeout.
    const waiting = fetch(`${base}?history=last&after=1.advertising&wait=10000`).then(async (res) => ({ status: (await res.json()) as StudyStatus, at: performance.now() }));
    const sites = study.identities.map((id) => new Site({ study, identitySecretKey: id.secretKey }));
    for (const s of sites) {
      const { advertise } = await s.startRound(1);
      expect((await fetch(server.url + API.studyMessage('chd-long-poll', 'advertise'), { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: encodeFederated(advertise) })).status).toBe(202);
    }
    const closed = performance.now();
    const woken = await waiting;
    expect(woken.status.step).toBe('sharing');
    expect(woken.at - closed).toBeLessThan(1000);
    // The round's weights: one binary message, 2 bits a weight plus the scales as float64.
    const bytes = new Uint8Array(await (await fetch(server.url + API.studyRound('chd-long-poll', 1, 'weights'))).arrayBuffer());
    const weights = decodeFederated(bytes, 'weights');
    const { inputs, hidden } = shapeOf(study.manifest);
    expect(weights.patterns.length).toBe(Math.ceil((hidden * inputs + hidden) / 4));
    expect(weights.scales.length).toBe(8 * (2 * hidden + 2));
    expect((await fetch(server.url + API.studyRound('chd-long-poll', 2, 'weights'))).status).toBe(409);
    for (const query of ['after=1.cooking', 'after=x.sharing', 'after=1.sharing&wait=60000', 'after=1.sharing&wait=-1']) {
      const res = await fetch(`${base}?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/after=|wait=/);
    }
    await fetch(`${server.url}/api/admin/studies/chd-long-poll/stop`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  }, 60_000);

  it('refuses tampered, replayed, unsigned and misdirected messages with 4xx, and the round goes on', async () => {
    const study = framinghamStudy({ id: 'chd-refusals', rounds: 1, stepSeconds: 30 });
    expect((await createStudy(study)).status).toBe(201);
    const post = (type: string, body: Uint8Array) => fetch(server.url + API.studyMessage('chd-refusals', type as 'advertise'), { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body });
    const site1 = new Site({ study, identitySecretKey: study.identities[0]!.secretKey });
    const { advertise } = await site1.startRound(1);
    const tampered = { ...advertise, maskKey: advertise.maskKey.map((b, k) => (k === 0 ? b ^ 1 : b)) };
    expect((await post('advertise', encodeFederated(tampered))).status).toBe(409);
    expect((await post('advertise', encodeFederated({ ...advertise, signature: new Uint8Array(64) }))).status).toBe(409);
    expect((await post('advertise', encodeFederated({ ...advertise, round: 2 }))).status).toBe(409);
    expect((await post('advertise', encodeFederated({ ...advertise, study: 'f'.repeat(64) }))).status).toBe(409);
    expect((await post('shares', encodeFederated(advertise))).status).toBe(400);
    expect((await post('advertise', new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).status).toBe(400);
    expect((await post('advertise', encodeFederated(advertise))).status).toBe(202);
    expect((await post('advertise', encodeFederated(advertise))).status).toBe(409); // replayed
    expect((await fetch(server.url + API.study('no-such-study'))).status).toBe(404);
    const status = (await (await fetch(server.url + API.study('chd-refusals'))).json()) as StudyStatus;
    expect(status.state).toBe('running');
    expect(status.step).toBe('advertising');
    const stop = await fetch(`${server.url}/api/admin/studies/chd-refusals/stop`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await stop.json()) as StudyStatus).state).toBe('stopped');
  }, 60_000);
});

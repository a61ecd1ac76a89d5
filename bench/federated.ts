/**
 * Private training benchmark (docs/federated.md): for N = 3, 10 and 20 sites on this machine,
 * - bytes up and down per site per round, measured on the wire (HTTP bodies) in a real study
 *   on loopback, and per parameter;
 * - crypto time per site per round (key generation, sharing, masking, reveal; the update's own
 *   arithmetic apart), timed on the core's functions in one process;
 * - round latency p50 and p95 on loopback (every site in this one process, sharing two cores);
 * - and, for 5 sites, the held-out accuracy and ε after a full study with distributed noise
 *   (z = 2, q = 0.1, ε ≤ 3 at δ = 1e-5).
 * Prints a table and writes bench/federated-results.json.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeInboxes, makeRoster, makeUnmaskRequest, unmaskRound } from '../src/core/federated/coordinator.ts';
import { parameterCount } from '../src/core/federated/network.ts';
import { siteDataset } from '../src/core/federated/records.ts';
import { runSite } from '../src/core/federated/runner.ts';
import { Site } from '../src/core/federated/site.ts';
import { httpTransport } from '../src/core/federated/transport.ts';
import { shapeOf, vectorLength } from '../src/core/federated/update.ts';
import { API } from '../src/core/protocol/index.ts';
import { startTestServer } from '../tests/support/server-harness.ts';
import { framinghamStudy, framinghamTables, type TestStudy } from '../tests/support/study.ts';

const ROUNDS = Number(process.env.BENCH_FEDERATED_ROUNDS ?? 6);
const TOKEN = 'federated-benchmark-token-0123';
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/**
 * The core's crypto of one round for every site, timed per site (ms): round 1 warms up (key
 * imports, the first WebCrypto calls), round 2 is measured.
 */
async function cryptoPerSite(study: TestStudy): Promise<number[]> {
  const n = study.identities.length;
  const sites = study.identities.map((id) => new Site({ study, identitySecretKey: id.secretKey }));
  let ms = new Array<number>(n).fill(0);
  const timed = async <T>(k: number, f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await f();
    ms[k]! += performance.now() - t0;
    return out;
  };
  for (const round of [1, 2]) {
    ms = new Array<number>(n).fill(0);
    const started = [];
    for (const [k, s] of sites.entries()) started.push(await timed(k, () => s.startRound(round)));
    const roster = await makeRoster(study, round, started.map((s) => s.advertise));
    const shares = [];
    for (const [k, s] of started.entries()) shares.push(await timed(k, () => s.round.share(roster)));
    const inboxes = await makeInboxes(study, round, roster, shares);
    const length = vectorLength(study.manifest);
    const uploads = [];
    for (const [k, s] of started.entries()) uploads.push(await timed(k, () => s.round.upload(inboxes.get(k + 1)!, new Uint32Array(length))));
    const request = makeUnmaskRequest(study, round, uploads);
    const reveals = [];
    for (const [k, s] of started.entries()) reveals.push(await timed(k, () => s.round.reveal(request)));
    await unmaskRound({ study, round, roster, participants: roster.advertisements.map((a) => a.site), uploads, reveals });
  }
  return ms;
}

/** A real study on loopback: bytes per site per round and round latencies. */
async function studyOnLoopback(n: number) {
  const server = await startTestServer({ adminToken: TOKEN, modelDirs: [], workers: 1 });
  try {
    const study = framinghamStudy({ id: `bench-${n}`, sites: n, rounds: ROUNDS, stepSeconds: 30 });
    await fetch(server.url + API.createStudy, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(study.manifest) });
    const tables = framinghamTables(n, 'even').siteTables;
    const up = new Array<number>(n).fill(0);
    const down = new Array<number>(n).fill(0);
    const roundEnds: number[] = [];
    await Promise.all(
      tables.map((t, k) => {
        const counted: typeof fetch = async (input, init) => {
          const body = init?.body;
          if (body instanceof Uint8Array) up[k]! += body.length;
          const res = await fetch(input, init);
          const bytes = await res.arrayBuffer();
          down[k]! += bytes.byteLength;
          return new Response(bytes, { status: res.status, headers: res.headers });
        };
        return runSite({
          study,
          identitySecretKey: study.identities[k]!.secretKey,
          data: siteDataset(study.manifest, t, new Uint8Array(32).fill(k + 1)),
          transport: httpTransport(server.url, study.manifest.id, counted),
          seed: new Uint8Array(32).fill(k + 50),
          pollMs: 20,
          onEvent: (e) => {
            if (k === 0 && e.kind === 'round') roundEnds.push(performance.now());
          },
        });
      }),
    );
    const latencies = roundEnds.slice(1).map((t, i) => t - roundEnds[i]!);
    return { upBytesPerRound: up.reduce((a, b) => a + b, 0) / n / ROUNDS, downBytesPerRound: down.reduce((a, b) => a + b, 0) / n / ROUNDS, latencyP50Ms: percentile(latencies, 50), latencyP95Ms: percentile(latencies, 95), parameters: parameterCount(shapeOf(study.manifest)) };
  } finally {
    await server.stop();
  }
}

/** A full study with distributed noise: its ε and held-out metrics (as the sites' counts say). */
async function privateStudy() {
  const server = await startTestServer({ adminToken: TOKEN, modelDirs: [], workers: 1 });
  try {
    const study = framinghamStudy({ id: 'bench-private', sites: 5, rounds: 500, samplingRate: 0.1, privacy: { epsilon: 3, delta: 1e-5, noiseMultiplier: 2 } });
    await fetch(server.url + API.createStudy, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(study.manifest) });
    const tables = framinghamTables(5, 'even').siteTables;
    const finals = await Promise.all(tables.map((t, k) => runSite({ study, identitySecretKey: study.identities[k]!.secretKey, data: siteDataset(study.manifest, t, new Uint8Array(32).fill(k + 1)), transport: httpTransport(server.url, study.manifest.id), seed: new Uint8Array(32).fill(k + 50), pollMs: 20 })));
    const final = finals[0]!;
    const best = final.history.filter((h) => h.outcome === 'done' && h.heldOut).sort((a, b) => b.heldOut!.balancedAccuracy - a.heldOut!.balancedAccuracy)[0];
    return { rounds: final.roundsDone, epsilon: final.privacy!.spent, heldOut: best?.heldOut ?? null };
  } finally {
    await server.stop();
  }
}

const rows = [];
for (const n of [3, 10, 20]) {
  const study = framinghamStudy({ sites: n });
  const crypto = await cryptoPerSite(study);
  const wire = await studyOnLoopback(n);
  rows.push({ sites: n, cryptoMsPerSiteP50: percentile(crypto, 50), cryptoMsPerSiteMax: Math.max(...crypto), ...wire, upBytesPerParameter: wire.upBytesPerRound / wire.parameters });
}
const full = await privateStudy();
const results = { machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, rounds: ROUNDS, rows, privateStudy: full };
console.log(`\nPrivate training, Framingham (14 features, 4 hidden units: ${rows[0]!.parameters} parameters), ${ROUNDS} rounds, every site in this process on ${cpus().length} cores\n`);
console.log('| sites | crypto ms/site/round (p50, max) | up bytes/site/round | up bytes/parameter | down bytes/site/round | round p50 ms | round p95 ms |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.sites} | ${r.cryptoMsPerSiteP50.toFixed(1)}, ${r.cryptoMsPerSiteMax.toFixed(1)} | ${Math.round(r.upBytesPerRound)} | ${r.upBytesPerParameter.toFixed(1)} | ${Math.round(r.downBytesPerRound)} | ${Math.round(r.latencyP50Ms)} | ${Math.round(r.latencyP95Ms)} |`);
console.log(`\nFull study, 5 sites, z = 2, q = 0.1: ${full.rounds} rounds until ε = ${full.epsilon.toFixed(3)} (δ = 1e-5); best held-out balanced accuracy ${full.heldOut?.balancedAccuracy.toFixed(3)}, AUC ${full.heldOut?.auc.toFixed(3)} (summed from the sites' own counts)`);
await writeFile(fileURLToPath(new URL('./federated-results.json', import.meta.url)), JSON.stringify(results, null, 2) + '\n');

/**
 * A study site's local step in the built training worker, in real Chromium with a WebGPU
 * adapter (--enable-unsafe-webgpu: SwiftShader's software adapter here, so the batch is tiny)
 * and without one (WebAssembly): the worker's `localStep` verb — the one a browser site's
 * worker calls — answers with the backend it ran on and per-record gradients equal to the
 * float64 reference to float32 precision. The worker is spoken to with comlink's own messages,
 * so nothing but the shipped worker file runs.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ternarize } from '../../src/core/federated/network.ts';
import { siteDataset } from '../../src/core/federated/records.ts';
import { classWeights, float64Step, shapeOf, studyInitialParameters } from '../../src/core/federated/update.ts';
import type { RunningServer } from '../../src/server/main.ts';
import { localStepRequest } from '../../workers/train/local-step-wire.ts';
import { framinghamStudy, framinghamTables } from '../support/study.ts';
import { Browser, buildApp, startAppServer } from './support/harness.ts';

let server: RunningServer;
let staticDir = '';
let workerPath = '';
const browsers: Browser[] = [];

beforeAll(async () => {
  staticDir = await buildApp('app-study-step');
  ({ server } = await startAppServer(staticDir));
  const name = (await readdir(join(staticDir, 'assets'))).find((f) => /^train\.worker-.*\.js$/.test(f));
  if (!name) throw new Error('the build has no training worker');
  workerPath = `/assets/${name}`;
}, 240_000);

afterAll(async () => {
  for (const b of browsers) await b.dispose();
  await server?.close();
});

/** A round's weights and a few sampled Framingham records, and their float64 gradients. */
function sample(records: number) {
  const study = framinghamStudy({ id: 'chd-local-step', rounds: 1 });
  const site = siteDataset(study.manifest, framinghamTables(5, 'even').siteTables[0]!, new Uint8Array(32).fill(1));
  const weights = ternarize(studyInitialParameters(study.manifest, study.hash), shapeOf(study.manifest));
  const [negative, positive] = classWeights(study.manifest);
  const picked = { inputs: site.train.inputs.slice(0, records), labels: site.train.labels.slice(0, records) };
  const recordWeights = Float64Array.from(picked.labels, (l) => (l === 1 ? positive : negative));
  return { request: localStepRequest(weights, picked, recordWeights), expected: float64Step(weights, picked, recordWeights) };
}

/** Starts the built worker in the page and calls `localStep` with comlink's wire messages. */
async function callLocalStep(page: Page, request: ReturnType<typeof localStepRequest>) {
  const plain = Object.fromEntries(Object.entries(request).map(([k, v]) => [k, ArrayBuffer.isView(v) ? { type: v.constructor.name, values: Array.from(v as unknown as ArrayLike<number>) } : v]));
  return page.evaluate(
    async ({ path, plain }) => {
      const typed = { Int8Array, Uint8Array, Float64Array } as Record<string, { from(v: number[]): unknown }>;
      const request = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, v && typeof v === 'object' ? typed[(v as { type: string }).type]!.from((v as { values: number[] }).values) : v]));
      // The page's Worker, typed here by what is used of it (these tests compile without DOM types).
      type PageWorker = {
        addEventListener(type: 'message', listener: (e: { data: { type: string; name?: string; value: unknown } }) => void): void;
        addEventListener(type: 'error', listener: (e: { message: string }) => void): void;
        postMessage(message: unknown): void;
        terminate(): void;
      };
      const { Worker } = globalThis as unknown as { Worker: new (url: string, options: { type: 'module' }) => PageWorker };
      const worker = new Worker(path, { type: 'module' });
      try {
        const answer = await new Promise<{ type: string; name?: string; value: unknown }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the training worker did not answer in 120 s')), 120_000);
          worker.addEventListener('message', (e) => (clearTimeout(timer), resolve(e.data)));
          worker.addEventListener('error', (e) => reject(new Error(`the training worker failed: ${e.message}`)));
          worker.postMessage({ id: 'local-step', type: 'APPLY', path: ['localStep'], argumentList: [{ type: 'RAW', value: request }] });
        });
        if (answer.type !== 'RAW') throw new Error(`localStep threw: ${JSON.stringify(answer.value)}`);
        const { gradients, backend, ms } = answer.value as { gradients: Float32Array; backend: { name: string; reason: string }; ms: number };
        return { gradients: Array.from(gradients), backend, ms };
      } finally {
        worker.terminate();
      }
    },
    { path: workerPath, plain },
  );
}

function worstDifference(got: number[], expected: Float64Array[]): number {
  const P = expected[0]!.length;
  expect(got.length).toBe(expected.length * P);
  let worst = 0;
  expected.forEach((row, k) => {
    let scale = 1e-12;
    for (const v of row) scale = Math.max(scale, Math.abs(v));
    row.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[k * P + i]! - v) / scale)));
  });
  return worst;
}

describe('the study local step in the training worker', () => {
  it.each([
    ['webgpu', ['--enable-unsafe-webgpu'], 8],
    ['wasm', [], 64],
  ] as const)('runs on %s and gives the float64 gradients to float32 precision', async (backend, args, records) => {
    const browser = new Browser({ args: [...args] });
    browsers.push(browser);
    await browser.launch();
    const page = await browser.page();
    await page.goto(`${server.url}/#/how`);
    const { request, expected } = sample(records);
    const answer = await callLocalStep(page, request);
    const worst = worstDifference(answer.gradients, expected);
    console.log(`local step on ${answer.backend.name} (${answer.backend.reason}): ${records} records in ${answer.ms.toFixed(1)} ms, largest difference from float64 ${worst.toExponential(2)} of a record's largest coordinate`);
    expect(answer.backend.name).toBe(backend);
    expect(worst).toBeLessThan(1e-5);
  }, 180_000);
});

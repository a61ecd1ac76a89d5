/**
 * The whole private-prediction path in one process: client keys, encryption, evaluation from
 * evaluation keys only, decryption. The CLI's `eval --encrypted`, the tests and the benchmark
 * use it; the browser and the server split the same calls across the network.
 */
import type { TernaryModel } from '../model/format.ts';
import type { QuantizedRecord } from '../model/reference.ts';
import { HeClient } from './client.ts';
import { HeEvaluator } from './evaluator.ts';
import type { HePlan } from './plan.ts';
import { keyBytesOf, type OpTimer } from './types.ts';

export interface RoundTripTimings {
  keygenMs: number;
  encryptMs: number;
  evaluateMs: number;
  decryptMs: number;
  evaluationKeyBytes: number;
  uploadBytes: number;
  downloadBytes: number;
}

export interface RoundTrip {
  /** Decrypted integer outputs, one per record, in order. */
  scores: number[];
  timings: RoundTripTimings;
}

/** Encrypts, evaluates and decrypts `records` under `plan`, timing each stage. */
export interface RoundTripOptions {
  timer?: OpTimer;
  /** Called after each encrypted input is decrypted, with records done so far. */
  onProgress?: (done: number, total: number) => void;
}

export async function encryptedScores(model: TernaryModel, plan: HePlan, records: readonly QuantizedRecord[], options: RoundTripOptions = {}): Promise<RoundTrip> {
  const evaluator = await HeEvaluator.create(model, plan);
  let t = performance.now();
  const client = await HeClient.create(plan);
  try {
    const bundle = client.evaluationKeys();
    const keygenMs = performance.now() - t;
    using keys = evaluator.loadKeys(bundle);
    let encryptMs = 0;
    let evaluateMs = 0;
    let decryptMs = 0;
    let uploadBytes = 0;
    let downloadBytes = 0;
    const scores: number[] = [];
    // Single plans carry a record in each region of one ciphertext: one round trip per `regions` records.
    const step = plan.circuit.layout === 'single' ? plan.circuit.regions : plan.recordsPerInput;
    // One input at a time, so memory stays flat however long the file is.
    for (let i = 0; i < records.length; i += step) {
      const chunk = records.slice(i, i + step);
      t = performance.now();
      const input = plan.layout === 'single' ? client.encryptVariants(chunk) : client.encryptBatch(chunk);
      encryptMs += performance.now() - t;
      t = performance.now();
      const result = evaluator.evaluate(input, keys, options.timer);
      evaluateMs += performance.now() - t;
      t = performance.now();
      scores.push(...(plan.layout === 'single' ? client.decryptVariants(result, chunk.length) : client.decryptScores(result)));
      decryptMs += performance.now() - t;
      uploadBytes += input.ciphertexts.reduce((s, b) => s + b.length, 0);
      downloadBytes += result.ciphertext.length;
      options.onProgress?.(scores.length, records.length);
    }
    return {
      scores,
      timings: {
        keygenMs,
        encryptMs,
        evaluateMs,
        decryptMs,
        evaluationKeyBytes: keyBytesOf(bundle),
        uploadBytes,
        downloadBytes,
      },
    };
  } finally {
    client.dispose();
    evaluator.dispose();
  }
}

/**
 * The evaluation pool on real worker threads and the real SEAL: first in first out, a bounded
 * queue, deadlines that drop queued tasks, and circuits sent by hash with the model text only
 * after a worker says it lacks it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HeClient, type EncryptedInput, type HePlan } from '../../core/he/index.ts';
import { referenceScore } from '../../core/model/reference.ts';
import { ProtocolError } from '../../core/protocol/index.ts';
import { randomRecords, syntheticModel } from '../../../tests/support/synthetic.ts';
import { EvaluationPool, type PoolOptions } from './pool.ts';

// ~100 ms per evaluation: long enough for a queue to form behind it.
const slow = syntheticModel(16, 128, 5, 'slow');
const modelText = JSON.stringify(slow);
const pools: EvaluationPool[] = [];
const clients: HeClient[] = [];

afterEach(async () => {
  clients.splice(0).forEach((c) => c.dispose());
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function setUp(options: Partial<PoolOptions>): Promise<{ pool: EvaluationPool; plan: HePlan; client: HeClient }> {
  const pool = new EvaluationPool({ threads: 1, maxQueue: 16, taskTimeoutMs: 30_000, workerKeySets: 4, ...options });
  pools.push(pool);
  const plan = await pool.compile(modelText, 'batch', 120_000);
  const client = await HeClient.create(plan);
  clients.push(client);
  return { pool, plan, client };
}

function inputs(client: HeClient, n: number): { input: EncryptedInput; expected: number[] }[] {
  return Array.from({ length: n }, (_, i) => {
    const records = randomRecords(slow, 3, 100 + i);
    return { input: client.encryptRecords(records)[0]!, expected: records.map((q) => referenceScore(slow, q)) };
  });
}

describe('EvaluationPool', () => {
  it('answers in arrival order, sending the model text once to a worker that lacks the circuit', async () => {
    const { pool, plan, client } = await setUp({ threads: 1 });
    const keys = client.evaluationKeys();
    const finished: number[] = [];
    const work = inputs(client, 6).map(({ input, expected }, i) =>
      pool.evaluate({ modelText, plan }, keys, input).then((result) => {
        finished.push(i);
        expect(client.decryptScores(result)).toEqual(expected);
      }),
    );
    await Promise.all(work);
    expect(finished).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pool.counts).toEqual({ evaluations: 6, resent: 1 });
  });

  it('refuses work beyond one task per worker plus the queue, and reads every accepted input once', async () => {
    const { pool, plan, client } = await setUp({ threads: 1, maxQueue: 2 });
    const keys = client.evaluationKeys();
    const read: number[] = [];
    const answers = await Promise.allSettled(inputs(client, 6).map(({ input }, i) => pool.evaluate({ modelText, plan }, keys, input, () => read.push(i))));
    const refused = answers.map((a) => (a.status === 'rejected' ? (a.reason as ProtocolError).code : 'ok'));
    expect(refused).toEqual(['ok', 'ok', 'ok', 'busy', 'busy', 'busy']);
    expect(read.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('drops tasks that waited past their deadline, then serves again', async () => {
    // A limit of ~10 evaluations and 24 queued at once: the later ones wait past it, however
    // fast or busy the machine is within a factor of two or so.
    const { pool, plan, client } = await setUp({ threads: 1, maxQueue: 32, taskTimeoutMs: 1000 });
    const keys = client.evaluationKeys();
    await pool.evaluate({ modelText, plan }, keys, inputs(client, 1)[0]!.input); // the worker builds the circuit
    const read: number[] = [];
    const answers = await Promise.allSettled(inputs(client, 24).map(({ input }, i) => pool.evaluate({ modelText, plan }, keys, input, () => read.push(i))));
    const codes = answers.map((a) => (a.status === 'rejected' ? (a.reason as ProtocolError).code : 'ok'));
    expect(codes.slice(0, 1)).toEqual(['ok']);
    expect(codes).toContain('timeout');
    expect(codes.every((c) => c === 'ok' || c === 'timeout')).toBe(true);
    // Dropped tasks free their turn at once; every input's memory is handed back.
    await expect.poll(() => read.length, { timeout: 10_000 }).toBe(24);
    expect(pool.queued).toBe(0);
    const [{ input, expected }] = inputs(client, 1);
    expect(client.decryptScores(await pool.evaluate({ modelText, plan }, keys, input!))).toEqual(expected);
  });
});

/**
 * The order of events around a repeated evaluation. The worker is replaced by a bridge whose
 * repeat waits until it is aborted (as the real bridge rejects with CancelledError when it
 * terminates the worker): what is tested is which result the state shows, for which request.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../lib/worker-bridge.ts';
import type { RepeatOutcome, TrainBridge, TrainRequest } from '../../lib/train-bridge.ts';
import { RepeatedSplits } from './repeat.svelte.ts';

function waitingBridge() {
  const calls: { bytes: number; resolve: (o: RepeatOutcome) => void }[] = [];
  const bridge = {
    repeat: (request: { bytes: ArrayBuffer }, options: { signal?: AbortSignal }) =>
      new Promise<RepeatOutcome>((resolve, reject) => {
        calls.push({ bytes: request.bytes.byteLength, resolve });
        options.signal?.addEventListener('abort', () => queueMicrotask(() => reject(new CancelledError())), { once: true });
      }),
  } as unknown as TrainBridge;
  return { bridge, calls };
}

const request = (n: number) => ({ name: 'f.csv', bytes: new Uint8Array(n).buffer, label: 'label', features: [], naming: {}, settings: {}, backend: 'auto' }) as unknown as TrainRequest;
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('repeated splits of the shown model', () => {
  it('keeps its own copy of the bytes, which the training request then moves to the worker', async () => {
    const { bridge, calls } = waitingBridge();
    const repeated = new RepeatedSplits(bridge);
    const r = request(10);
    repeated.remember(r);
    structuredClone(r.bytes, { transfer: [r.bytes] }); // what comlink's transfer does to the original
    void repeated.start(2);
    await settle();
    expect(calls[0]!.bytes).toBe(10);
  });

  it('a new training while splits run cancels them and shows nothing for the new model, not even "stopped"', async () => {
    const { bridge } = waitingBridge();
    const repeated = new RepeatedSplits(bridge);
    repeated.remember(request(4));
    const running = repeated.start(2);
    await settle();
    expect(repeated.phase).toBe('running');
    repeated.remember(request(6));
    await running;
    await settle();
    expect(repeated.phase).toBe('idle');
    expect(repeated.outcome).toBeUndefined();
  });

  it('Cancel says stopped; a result arrives only for the run still current', async () => {
    const { bridge, calls } = waitingBridge();
    const repeated = new RepeatedSplits(bridge);
    repeated.remember(request(4));
    const first = repeated.start(2);
    await settle();
    repeated.cancel();
    await first;
    expect(repeated.phase).toBe('cancelled');
    const second = repeated.start(3);
    await settle();
    const outcome = { totalMs: 1 } as RepeatOutcome;
    calls[1]!.resolve(outcome);
    await second;
    expect(repeated.phase).toBe('done');
    expect(repeated.outcome).toBe(outcome);
  });
});

/**
 * Reusable shared memory for classify bodies.
 *
 * Why: a batch request is about 1 MiB. When every request allocates a fresh ArrayBuffer for its
 * body on the event loop, and then another one in the worker it is moved to, V8 counts each as
 * external memory. It answers every ~64 MiB of that with a full mark-compact of the heap that
 * allocated it. At a hundred batch requests a second, that took about a quarter of the
 * service's CPU (bench/server.ts, docs/server.md).
 *
 * A slab is a SharedArrayBuffer allocated once. The body parser fills it, the worker reads it
 * through a shared view (no copy, no new buffer in either heap), and it comes back here when the
 * worker has answered. It comes back only then: a slab is never refilled while a worker might
 * still read it. A slab that is never released (a request refused early, a worker that crashed)
 * is garbage like any other buffer. It is never handed out twice.
 */

const MIN_SLAB = 64 * 1024;

/** A body in a slab: `bytes` is a view of exactly the body's length. */
export interface Slab {
  readonly bytes: Uint8Array;
  /** Gives the slab back for reuse. Call it only when nothing reads `bytes` any more; once is enough. */
  release(): void;
}

/** Slabs come in power-of-two sizes, so a slab of one request fits the next of a similar size. */
function slabSize(bytes: number): number {
  return Math.max(MIN_SLAB, 2 ** Math.ceil(Math.log2(bytes)));
}

export class SlabPool {
  readonly #free = new Map<number, SharedArrayBuffer[]>();
  readonly #maxRetainedBytes: number;
  #retainedBytes = 0;

  /** `maxRetainedBytes` bounds the free slabs kept for reuse; slabs in use are bounded by the requests in flight. */
  constructor(maxRetainedBytes: number) {
    this.#maxRetainedBytes = maxRetainedBytes;
  }

  /** Bytes held by free slabs now. */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  /** A slab with room for `length` bytes (its contents are whatever was there before). */
  take(length: number): Slab {
    const size = slabSize(length);
    const reused = this.#free.get(size)?.pop();
    if (reused) this.#retainedBytes -= size;
    const buffer = reused ?? new SharedArrayBuffer(size);
    let released = false;
    return {
      bytes: new Uint8Array(buffer, 0, length),
      release: () => {
        if (released) return;
        released = true;
        if (this.#retainedBytes + size > this.#maxRetainedBytes) return;
        const list = this.#free.get(size) ?? [];
        list.push(buffer);
        this.#free.set(size, list);
        this.#retainedBytes += size;
      },
    };
  }
}

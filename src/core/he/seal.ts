/**
 * Loads Microsoft SEAL (node-seal, the build that throws on transparent ciphertexts) once per
 * thread. Building the WebAssembly module costs ~100 ms, so it is cached in a module promise.
 * Under Vite, `locateFile: undefined` lets the bundler resolve the hashed .wasm asset.
 */
import SEAL from 'node-seal/throws';
import type { MainModule } from 'node-seal/throws';

export type Seal = MainModule;
export type { Ciphertext, Plaintext, SEALContext, GaloisKeys, RelinKeys, SecretKey, PublicKey } from 'node-seal/throws';

let loading: Promise<Seal> | undefined;

/** The SEAL runtime of this thread, loaded on first use. */
export function loadSeal(): Promise<Seal> {
  loading ??= SEAL({ locateFile: undefined });
  return loading;
}

/**
 * SEAL throws C++ exceptions as WebAssembly.Exception whose `message` is [type, text].
 * Returns the text, or the plain message of an ordinary Error.
 */
export function sealErrorText(error: unknown): string {
  const m = (error as { message?: unknown } | null)?.message;
  if (Array.isArray(m)) return m.map(String).join(': ');
  if (typeof m === 'string') return m;
  return String(error);
}

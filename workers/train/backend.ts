/**
 * Which TensorFlow.js backend trains, and why (DESIGN §5): WebGPU when the browser gives an
 * adapter, else WebAssembly, else plain JavaScript. Each backend's code is imported only when
 * it is tried, so a browser without WebGPU never downloads it, and the .wasm binaries load only
 * when the wasm backend starts. The choice is made once per worker (a module promise); the
 * bridge starts a fresh worker to choose again.
 */
import * as tf from '@tensorflow/tfjs';
// The binaries as hashed assets (precached by the service worker). Threads are off, so the
// threaded build is never fetched; the map still needs an entry for it.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

/** A backend that was tried and not used, with the reason in words. */
export interface SkippedBackend {
  name: BackendName;
  reason: string;
}

export interface BackendChoice {
  name: BackendName;
  /** Why this one runs, for the person watching. */
  reason: string;
  /** Backends tried first and why they were passed over. */
  skipped: SkippedBackend[];
  /** True for a software WebGPU adapter (e.g. SwiftShader): correct, but slower than wasm. */
  slow?: boolean;
}

const ORDER: BackendName[] = ['webgpu', 'wasm', 'cpu'];

interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
}
interface GpuNavigator {
  gpu?: { requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null> };
}

/** Starts WebGPU, or says why not. */
async function tryWebGpu(): Promise<{ ok: true; reason: string; slow: boolean } | { ok: false; reason: string }> {
  const gpu = (navigator as unknown as GpuNavigator).gpu;
  if (!gpu) return { ok: false, reason: 'this browser offers no WebGPU' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return { ok: false, reason: 'WebGPU is there but gives no adapter (no usable GPU, or WebGPU is turned off)' };
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'the WebGPU backend could not start on this adapter' };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  const slow = adapter.isFallbackAdapter === true || /swiftshader/i.test(name);
  return { ok: true, slow, reason: `a WebGPU adapter is available (${name})${slow ? '; it is a software adapter, so training is correct but slow' : ''}` };
}

async function tryWasm(): Promise<{ ok: boolean; reason: string }> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Threads need cross-origin isolation (SharedArrayBuffer), which this app does not ask for.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlainUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmSimdUrl,
  });
  if (!(await tf.setBackend('wasm'))) return { ok: false, reason: 'the WebAssembly backend could not start' };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { ok: true, reason: `WebAssembly${simd ? ' with SIMD' : ''}, one thread` };
}

async function tryCpu(): Promise<{ ok: boolean; reason: string }> {
  return (await tf.setBackend('cpu')) ? { ok: true, reason: 'plain JavaScript' } : { ok: false, reason: 'the JavaScript backend could not start' };
}

async function choose(preference: BackendPreference): Promise<BackendChoice> {
  const skipped: SkippedBackend[] = [];
  const order = preference === 'auto' ? ORDER : ORDER.slice(ORDER.indexOf(preference));
  if (preference !== 'auto') for (const name of ORDER.slice(0, ORDER.indexOf(preference))) skipped.push({ name, reason: 'not chosen' });
  for (const name of order) {
    try {
      const tried = name === 'webgpu' ? await tryWebGpu() : name === 'wasm' ? await tryWasm() : await tryCpu();
      if (tried.ok) return { name, reason: tried.reason, skipped, ...('slow' in tried && tried.slow ? { slow: true } : {}) };
      skipped.push({ name, reason: tried.reason });
    } catch (e) {
      skipped.push({ name, reason: `it failed to start: ${(e as Error).message}` });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

let chosen: Promise<BackendChoice> | undefined;

/** The backend this worker trains on, started on first use (the preference counts only then). */
export function startBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  if (!chosen) {
    chosen = choose(preference);
    chosen.catch(() => (chosen = undefined));
  }
  return chosen;
}

/**
 * A round's weights on the wire: what the coordinator sends every site each round. The ternary
 * patterns take 2 bits a weight (0 → 00, +1 → 01, −1 → 10; 11 is refused), so the download
 * grows by a quarter byte per parameter; the H + 2 scales and biases travel as float64, exact,
 * because every site's gradients must be bit-identical for the same weights.
 */
import { ProtocolError } from '../protocol/errors.ts';
import type { Weights } from './messages.ts';
import type { NetworkShape, RoundWeights } from './network.ts';

const CODE = { 0: 0, 1: 1, [-1]: 2 } as Record<number, number>;

/** Ternary values four to a byte, low bits first. */
export function packTernary(values: Int8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 4));
  values.forEach((v, k) => {
    const code = CODE[v];
    if (code === undefined) throw new RangeError(`${v} at ${k} is not a ternary weight`);
    out[k >> 2]! |= code << (2 * (k & 3));
  });
  return out;
}

/** `count` ternary values from their packed bytes; refuses the unused code 11 and stray bits. */
export function unpackTernary(bytes: Uint8Array, count: number): Int8Array {
  if (bytes.length !== Math.ceil(count / 4)) throw new ProtocolError('bad_request', `field patterns: ${bytes.length} bytes for ${count} ternary weights`);
  const out = new Int8Array(count);
  for (let k = 0; k < 4 * bytes.length; k++) {
    const code = (bytes[k >> 2]! >> (2 * (k & 3))) & 3;
    if (k >= count) {
      if (code !== 0) throw new ProtocolError('bad_request', 'field patterns: bits set past the last weight');
      continue;
    }
    if (code === 3) throw new ProtocolError('bad_request', `field patterns: weight ${k} has no ternary value`);
    out[k] = code === 2 ? -1 : code;
  }
  return out;
}

/** The weights message of a round. */
export function weightsMessage(study: string, round: number, w: RoundWeights): Weights {
  const H = w.bias.length;
  const inputs = w.pattern.length / H;
  const patterns = new Int8Array(H * inputs + H);
  patterns.set(w.pattern);
  patterns.set(w.outputPattern, H * inputs);
  const scales = new Float64Array(2 * H + 2);
  scales.set(w.unitScale);
  scales.set(w.bias, H);
  scales[2 * H] = w.outputScale;
  scales[2 * H + 1] = w.outputBias;
  return { type: 'weights', federated: 1, study, round, inputs, hidden: H, patterns: packTernary(patterns), scales: float64Bytes(scales) };
}

/** The round's weights from its message, checked against the study, the round and the network. */
export function roundWeightsOf(message: Weights, expected: { study: string; round: number; shape: NetworkShape }): RoundWeights {
  const { inputs: d, hidden: H } = expected.shape;
  if (message.study !== expected.study || message.round !== expected.round) throw new ProtocolError('bad_request', `the weights are for round ${message.round} of study ${message.study.slice(0, 12)}…, not round ${expected.round} of ${expected.study.slice(0, 12)}…`);
  if (message.inputs !== d || message.hidden !== H) throw new ProtocolError('bad_request', `the round's weights are for ${message.inputs} inputs and ${message.hidden} hidden units; this study's network has ${d} and ${H}`);
  const patterns = unpackTernary(message.patterns, H * d + H);
  const scales = float64sOf(message.scales, 2 * H + 2);
  if (!scales.every(Number.isFinite)) throw new ProtocolError('bad_request', 'field scales: not every scale is a finite number');
  return {
    pattern: patterns.slice(0, H * d),
    outputPattern: patterns.slice(H * d),
    unitScale: scales.slice(0, H),
    bias: scales.slice(H, 2 * H),
    outputScale: scales[2 * H]!,
    outputBias: scales[2 * H + 1]!,
  };
}

function float64Bytes(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((x, k) => view.setFloat64(8 * k, x, true));
  return out;
}

function float64sOf(bytes: Uint8Array, count: number): Float64Array {
  if (bytes.length !== 8 * count) throw new ProtocolError('bad_request', `field scales: ${bytes.length} bytes for ${count} float64 values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float64Array.from({ length: count }, (_, k) => view.getFloat64(8 * k, true));
}

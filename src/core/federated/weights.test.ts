import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFederated, encodeFederated } from './messages.ts';
import { initialParameters, ternarize } from './network.ts';
import { deriveRng } from './prng.ts';
import { packTernary, roundWeightsOf, unpackTernary, weightsMessage } from './weights.ts';

const STUDY = 'ab'.repeat(32);
const ternaryArrays = fc.array(fc.constantFrom(-1, 0, 1), { minLength: 1, maxLength: 300 }).map((a) => Int8Array.from(a));

describe('round weights on the wire', () => {
  it('packs ternary weights four to a byte and reads them back exactly', () => {
    fc.assert(
      fc.property(ternaryArrays, (values) => {
        const packed = packTernary(values);
        expect(packed.length).toBe(Math.ceil(values.length / 4));
        expect([...unpackTernary(packed, values.length)]).toEqual([...values]);
      }),
    );
  });

  it('refuses the unused code, stray bits past the last weight and a wrong length', () => {
    expect(() => unpackTernary(Uint8Array.of(0b11), 1)).toThrow(/no ternary value/);
    expect(() => unpackTernary(Uint8Array.of(0b0100), 1)).toThrow(/past the last weight/);
    expect(() => unpackTernary(Uint8Array.of(0, 0), 3)).toThrow(/2 bytes for 3/);
  });

  it('carries a round exactly, in 2 bits a weight plus 8 bytes a scale', () => {
    const shape = { inputs: 15, hidden: 6 };
    const w = ternarize(initialParameters(shape, deriveRng(new Uint8Array(32).fill(3), 'w')), shape);
    const bytes = encodeFederated(weightsMessage(STUDY, 4, w));
    const back = roundWeightsOf(decodeFederated(bytes, 'weights'), { study: STUDY, round: 4, shape });
    expect(back).toEqual(w);
    const weightsCount = shape.hidden * shape.inputs + shape.hidden;
    const envelope = 200; // keys, version, study hash, round, lengths
    expect(bytes.length).toBeLessThanOrEqual(Math.ceil(weightsCount / 4) + 8 * (2 * shape.hidden + 2) + envelope);
  });

  it("refuses another round's, another study's or another network's weights", () => {
    const shape = { inputs: 4, hidden: 2 };
    const message = weightsMessage(STUDY, 2, ternarize(initialParameters(shape, deriveRng(new Uint8Array(32), 'w')), shape));
    expect(() => roundWeightsOf(message, { study: STUDY, round: 3, shape })).toThrow(/round 2/);
    expect(() => roundWeightsOf(message, { study: 'cd'.repeat(32), round: 2, shape })).toThrow(/study/);
    expect(() => roundWeightsOf(message, { study: STUDY, round: 2, shape: { inputs: 4, hidden: 3 } })).toThrow(/hidden units/);
  });
});

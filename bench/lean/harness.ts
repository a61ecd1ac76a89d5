/** Lean requests (bench/lean.ts): the targets, the proof records, the secret-key inspector, and one row of the table with its verdict. */
import type { TernaryModel } from '../../src/core/model/format.ts';
import type { QuantizedRecord } from '../../src/core/model/reference.ts';
import { REQUIRED_MARGIN_BITS, sampleRecords } from '../../src/core/he/compile.ts';
import { HeClient } from '../../src/core/he/client.ts';
import { contextFor } from '../../src/core/he/params.ts';
import type { HePlan } from '../../src/core/he/plan.ts';
import type { Ciphertext, Seal } from '../../src/core/he/seal.ts';
import { floodBits, rerandomize } from '../../src/core/he/rerandomize.ts';

export const TARGET = { upBytes: 64 * 1024, downBytes: 32 * 1024, keyBytes: 2 * 1024 * 1024, evalMs: 60 };
/** Eval time is the fastest of REPEATS runs: the machine is shared, and other work only slows it. */
export const REPEATS = 5;

/** The records of the compiler's proof: extremes cycled through every region, then random fills. */
export function proofRecords(model: TernaryModel, regions: number): QuantizedRecord[][] {
  const extremes = sampleRecords(model, 2 + model.hidden.weights.length);
  const random = sampleRecords(model, extremes.length + 2 * regions).slice(extremes.length);
  return [Array.from({ length: regions }, (_, r) => extremes[r % extremes.length]!), random.slice(0, regions), random.slice(regions)];
}

/** Secret-key tools the bench needs beside HeClient: noise probes and SEAL-compressed sizes. */
export class Inspector implements Disposable {
  readonly #seal: Seal;
  readonly keygen;
  readonly sk;
  readonly pk;
  readonly decryptor;
  readonly encryptor;
  readonly encoder;
  constructor(seal: Seal, plan: HePlan, client: HeClient) {
    this.#seal = seal;
    const context = contextFor(seal, plan.params);
    const sk = new seal.SecretKey();
    sk.loadFromArray(context, client.exportSecretKey());
    this.keygen = new seal.KeyGenerator(context, sk);
    sk.delete();
    this.sk = this.keygen.secretKey();
    this.pk = this.keygen.createPublicKey();
    this.decryptor = new seal.Decryptor(context, this.sk);
    this.encryptor = new seal.Encryptor(context, this.pk, this.sk);
    this.encoder = new seal.BatchEncoder(context);
  }
  budget(ct: Ciphertext): number {
    return this.decryptor.invariantNoiseBudget(ct);
  }
  /** Bytes of a seeded symmetric encryption of `values` saved with SEAL's zstd. */
  zstdUpload(values: BigInt64Array): number {
    const pt = new this.#seal.Plaintext();
    this.encoder.encode(values, pt);
    const ser = this.encryptor.encryptSymmetricSerializable(pt);
    const n = (ser.saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array).length;
    ser.delete();
    pt.delete();
    return n;
  }
  [Symbol.dispose](): void {
    this.encoder.delete();
    this.encryptor.delete();
    this.decryptor.delete();
    this.pk.delete();
    this.sk.delete();
    this.keygen.delete();
  }
}


export interface Row {
  model: string;
  design: string;
  idea: string;
  parameters: string;
  regions: number;
  galoisSteps: number[];
  keySwitchesPerEval: number | null;
  upBytes: number;
  upBytesZstd: number;
  downBytes: number;
  downBytesZstd: number;
  keyBytes: number;
  evalMs: number | null;
  marginBits: number | null;
  stageBudgets: Record<string, number>;
  exact: boolean;
  maskPlaintextNonzeroCoefficients: number | null;
  /** Circuit privacy (rerandomize.ts): flooding bits a 2^-40 distance needs at the result's level, and what is left. */
  flooding: null | { floodBits: number; marginBefore: number; marginAfter: number | null; exact: boolean | null; note: string | null; afterSwitchToLast: { marginBits: number; exact: boolean; downBytes: number } | null };
  packedResult: null | { k0: number; k1: number; downBytes: number; marginBits: number; exact: boolean; smallestExact: { k0: number; k1: number; downBytes: number; marginBits: number } | null };
  meetsTargets: { up: boolean; down: boolean; keys: boolean; evalMs: boolean; proof: boolean };
  refused: string | null;
}

export function judge(row: Row): Row {
  const proof = row.exact && (row.marginBits ?? 0) >= REQUIRED_MARGIN_BITS;
  const down = Math.min(row.downBytes, row.packedResult && row.packedResult.marginBits >= REQUIRED_MARGIN_BITS ? row.packedResult.downBytes : Infinity);
  row.meetsTargets = { up: row.upBytes <= TARGET.upBytes, down: down <= TARGET.downBytes, keys: row.keyBytes <= TARGET.keyBytes, evalMs: (row.evalMs ?? Infinity) <= TARGET.evalMs, proof };
  if (!row.refused) {
    const why: string[] = [];
    if (!row.exact) why.push(`decrypted results differ from the integer reference (noise budget left ${row.marginBits} bits)`);
    else if (!proof) why.push(`noise budget left ${row.marginBits} bits < ${REQUIRED_MARGIN_BITS} required`);
    if (!row.meetsTargets.up) why.push(`${row.upBytes} B up > ${TARGET.upBytes}`);
    if (!row.meetsTargets.down) why.push(`${down === Infinity ? row.downBytes : down} B down > ${TARGET.downBytes}`);
    if (!row.meetsTargets.keys) why.push(`${row.keyBytes} B of keys > ${TARGET.keyBytes}`);
    if (!row.meetsTargets.evalMs) why.push(`eval ${row.evalMs?.toFixed(1)} ms > ${TARGET.evalMs}`);
    row.refused = why.length ? why.join('; ') : null;
  }
  return row;
}

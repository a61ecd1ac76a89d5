/** `cipherclinic plan <model.json> [--layout batch|single] [--json]` */
import { compilePlan, describeParameters, coeffModulusBits, plainModulusBits, type HePlan, type LayoutName } from '../core/he/index.ts';
import { verifyMonotone } from '../core/model/monotone.ts';
import { pairs, readModelFile } from './io.ts';
import { monotoneSummary, provedLines } from './monotone.ts';

/** The plan as the CLI's JSON reports it; per-record sizes divide by the records one input carries. */
export function planSummary(plan: HePlan) {
  const c = plan.circuit;
  return {
    model: plan.modelHash,
    planHash: plan.hash,
    scheme: plan.params.scheme,
    polyModulusDegree: plan.params.polyModulusDegree,
    plainModulusBits: plainModulusBits(plan.params),
    coeffModulusBits: coeffModulusBits(plan.params),
    layout: plan.layout,
    outputBound: plan.outputBound,
    noiseMarginBits: plan.report.noiseMarginBits,
    requiredMarginBits: plan.report.requiredMarginBits,
    ...(c.layout === 'single'
      ? { regions: c.regions, regionLength: c.regionLength, floodBits: c.floodBits, resultBits: c.result, noiseMarginBeforeFloodBits: plan.report.noiseMarginBeforeFloodBits, noiseBoundBits: plan.report.noiseBoundBits }
      : {}),
    keys: plan.keys,
    recordsPerCiphertextSet: plan.recordsPerInput,
    ciphertextsPerInput: plan.ciphertextsPerInput,
    galoisSteps: plan.galoisSteps,
    evaluationKeyBytes: plan.report.evaluationKeyBytes,
    uploadBytesPerRecord: Math.ceil(plan.report.uploadBytesPerInput / plan.recordsPerInput),
    downloadBytesPerRecord: Math.ceil(plan.report.downloadBytesPerResult / plan.recordsPerInput),
    refused: plan.report.refused,
  };
}

export async function planCommand(modelPath: string, layout: LayoutName, json: boolean): Promise<void> {
  const model = await readModelFile(modelPath);
  const plan = await compilePlan(model, layout);
  // compilePlan refused a model that breaks a declared constraint; this says what was proved.
  const proof = verifyMonotone(model);
  const s = planSummary(plan);
  if (json) {
    console.log(JSON.stringify({ ...s, monotone: monotoneSummary(proof) }));
    return;
  }
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(`Plan for ${model.title} (${model.id}), ${layout} layout: ${describeParameters(plan.params)}`);
  console.log(
    pairs([
      ['output bound', `±${s.outputBound} (plain modulus ${s.plainModulusBits} bits)`],
      ...(s.floodBits === undefined
        ? [['noise margin', `${s.noiseMarginBits} bits left (≥ ${s.requiredMarginBits} required), measured on the real circuit`] as [string, string]]
        : [
            ['noise margin', `${s.noiseMarginBeforeFloodBits} bits after the product (noise bound 2^${s.noiseBoundBits}), ${s.noiseMarginBits} after flooding and packing (≥ ${s.requiredMarginBits} required), measured on the real circuit`] as [string, string],
            ['circuit privacy', `results flooded with ${s.floodBits} bits of noise at ${s.regions} output positions (statistical distance ≤ 2^-40), sent at ${s.resultBits!.k1} / ${s.resultBits!.k0} bits per coefficient`] as [string, string],
          ]),
      ['records per upload', s.regions === undefined ? String(s.recordsPerCiphertextSet) : `1, with up to ${s.regions - 1} variants of it (${s.regions} regions of ${s.regionLength} coefficients)`],
      ['evaluation keys', `${kb(s.evaluationKeyBytes)} (${[s.keys.relin && 'relinearization', s.keys.publicKey && 'public key', s.galoisSteps.length > 0 && 'Galois'].filter(Boolean).join(', ')})`],
      ['upload per record', kb(s.uploadBytesPerRecord)],
      ['download per record', kb(s.downloadBytesPerRecord)],
    ]),
  );
  for (const r of s.refused) console.log(`  not chosen: ${r.parameters}: ${r.reason}`);
  for (const line of provedLines(proof)) console.log(line);
}

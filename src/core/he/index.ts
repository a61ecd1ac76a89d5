/** The encryption engine: one implementation for the browser worker, the server and the CLI. */
export { HeClient } from './client.ts';
export { HeEvaluator, LoadedKeys } from './evaluator.ts';
export { compilePlan, verifyPlan, PlanError, CANDIDATES, REQUIRED_MARGIN_BITS, type Candidate } from './compile.ts';
export { parsePlan, planHash, type HePlan, type PlanReport } from './plan.ts';
export { describeParameters, coeffModulusBits, plainModulusBits, HeParameterError, type HeParameters } from './params.ts';
export { HeInputError, keyBytesOf, keyIdOf, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle, type OpTimer } from './types.ts';
export { LAYOUTS, type LayoutName } from './layout.ts';
export { loadSeal } from './seal.ts';
export { encryptedScores, type RoundTrip, type RoundTripTimings, type RoundTripOptions } from './roundtrip.ts';
export { readSealHeader, ciphertextBytesBound, keyBytesBound, SealBytesError, SEAL_HEADER_BYTES, type SealCompression } from './serialized.ts';

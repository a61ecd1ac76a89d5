/** The encryption engine: one implementation for the browser worker, the server and the CLI. */
export { HeClient } from './client.ts';
export { HeEvaluator, LoadedKeys, type EvaluateOptions } from './evaluator.ts';
export { compilePlan, verifyPlan, PlanError, CANDIDATES, REQUIRED_MARGIN_BITS, FLOODED_MARGIN_BITS, SINGLE_TARGETS, type Candidate } from './compile.ts';
export { parsePlan, planHash, PLAN_VERSION, type HePlan, type PlanReport, type CircuitShape, type BatchCircuit, type QuadraticCircuit, type PlanKeys } from './plan.ts';
export { describeParameters, coeffModulusBits, plainModulusBits, HeParameterError, type HeParameters } from './params.ts';
export { HeInputError, keyBytesOf, keyIdOf, type EncryptedInput, type EncryptedResult, type EvaluationKeyBundle, type OpTimer } from './types.ts';
export { LAYOUTS, type LayoutName } from './layout.ts';
export { loadSeal } from './seal.ts';
export { encryptedScores, type RoundTrip, type RoundTripTimings, type RoundTripOptions } from './roundtrip.ts';
export { readSealHeader, ciphertextBytesBound, keyBytesBound, publicKeyBytesBound, SealBytesError, SEAL_HEADER_BYTES, withSealPayload, type SealCompression } from './serialized.ts';

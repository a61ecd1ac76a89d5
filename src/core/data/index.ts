/** Data in: CSV files and dataset specs → feature rows, with errors a person can act on. */
export { DataError, describeLocation } from './errors.ts';
export { type NumericCell, type NumericTable, type TextCell, type TextTable, parseCsv, readCsv, readNumber, toNumericTable } from './csv.ts';
export { type LabeledData, type SelectOptions, columnIndices, rowsDigest, selectFeatures } from './select.ts';
export { type ProblemKind, type RowProblem, type ValidRecord, type ValidationResult, type ValidateOptions, type ValidatableTable, validateRows } from './validate.ts';
export { type DatasetSpec, DatasetSpecSchema, parseDatasetSpec } from './spec.ts';
export { idFromFileName, inferFeatureSpecs, labelFromName } from './infer.ts';
export { type FhirMapping, type FhirOptions, type FilledValue, type FillStatus, ageInYears, fhirRuleFor, mapFhirBundle } from './fhir.ts';
export { convertUnit, normalizeUnit, unitInfo } from './ucum.ts';

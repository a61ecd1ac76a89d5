/**
 * What a model's `training` block says about the data it came from, typed. The block is free
 * form in the file format (informative, hashed); these are the fields the product reads.
 */
import type { ModelBody } from './format.ts';

export interface Provenance {
  /** CSV file name the model was trained on. */
  dataset?: string;
  /** Name of the 0/1 label column. */
  label: string;
  /** Columns whose 0 means "not measured" in that data set (read as missing). */
  missingAsZero: string[];
  /** 0-based data rows of the held-out split. */
  testRows: number[];
  /** The rows the model was split from, as it read them: count and SHA-256 (core/data rowsDigest). Absent in older files. */
  data?: { rows: number; sha256: string };
}

export function provenanceOf(model: Pick<ModelBody, 'training'>): Provenance {
  const t = (model.training ?? {}) as Record<string, unknown>;
  return {
    dataset: typeof t.dataset === 'string' ? t.dataset : undefined,
    label: typeof t.label === 'string' ? t.label : 'label',
    missingAsZero: Array.isArray(t.missingAsZero) ? t.missingAsZero.map(String) : [],
    testRows: Array.isArray(t.testRows) ? (t.testRows as number[]) : [],
    data: dataOf(t.data),
  };
}

function dataOf(value: unknown): Provenance['data'] {
  const d = (value ?? {}) as { rows?: unknown; sha256?: unknown };
  return typeof d.rows === 'number' && typeof d.sha256 === 'string' ? { rows: d.rows, sha256: d.sha256 } : undefined;
}

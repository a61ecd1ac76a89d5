/**
 * What the CLI says about a model's declared monotone constraints, from the exact verifier
 * (core/model/monotone.ts): one line per constraint proved, a warning naming each broken one,
 * and the same facts for --json.
 */
import type { ModelBody } from '../core/model/format.ts';
import { type MonotoneReport, violationMessage } from '../core/model/monotone.ts';

type Checked = Pick<ModelBody, 'features' | 'input' | 'hidden' | 'output'> & { id: string };

/** For --json: each declared constraint, whether the verifier proved it, and its margin. */
export interface MonotoneSummary {
  feature: string;
  direction: 'increasing' | 'decreasing';
  proved: boolean;
  /** The least change of the integer output per step of the feature, the declared way. */
  margin: number;
}

export function monotoneSummary(report: MonotoneReport): MonotoneSummary[] {
  return report.checks.map((c) => ({ feature: c.feature, direction: c.direction, proved: c.holds, margin: c.margin }));
}

/** One line per proved constraint, e.g. `proved: the risk never falls as "glucose" rises (…)`. */
export function provedLines(report: MonotoneReport): string[] {
  return report.checks
    .filter((c) => c.holds)
    .map((c) => `proved: the risk never ${c.direction === 'increasing' ? 'falls' : 'rises'} as "${c.feature}" rises (least change per step: ${c.margin} in the integer output)`);
}

/** The verifier's own words for the constraints a model breaks, from its report; undefined when all hold. */
export function brokenWarning(model: Checked, report: MonotoneReport): string | undefined {
  const message = violationMessage(model, report);
  return message && `warning: ${message}`;
}

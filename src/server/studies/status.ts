/**
 * What a study's record says, read without changing it: the privacy spent (the accountant over
 * the rounds charged), the status every site and person reads, and the model file the study
 * publishes (deterministic: every instance rebuilds the same file from the same record).
 */
import { PrivacyAccountant, type PrivacySpent } from '../../core/federated/accountant.ts';
import { decodeFederated } from '../../core/federated/messages.ts';
import { parameterCount } from '../../core/federated/network.ts';
import type { StudyStatus } from '../../core/federated/round.ts';
import { shapeOf } from '../../core/federated/update.ts';
import type { TernaryModel } from '../../core/model/format.ts';
import { studyModel } from '../../train/federated.ts';
import type { StudyRecord } from './store.ts';

/**
 * One accountant per study, built once: its per-round RDP curve (a few tenths of a millisecond
 * to compute) depends only on the manifest, and sites read the status several times a step.
 * What a record has spent is then a lookup at its number of charged rounds.
 */
const accountants = new Map<string, PrivacyAccountant>();
function accountantFor(r: StudyRecord): PrivacyAccountant {
  let accountant = accountants.get(r.hash);
  if (!accountant) {
    if (accountants.size >= 256) accountants.clear();
    accountant = new PrivacyAccountant(r.manifest, parameterCount(shapeOf(r.manifest)));
    accountants.set(r.hash, accountant);
  }
  return accountant;
}

/** (ε, δ) spent over the rounds charged so far. */
export function privacySpent(r: StudyRecord): PrivacySpent {
  return accountantFor(r).spentAfter(r.charged);
}

/** True when one more round keeps ε within the manifest's budget (always without DP). */
export function budgetAllowsRound(r: StudyRecord): boolean {
  const budget = r.manifest.privacy;
  return !budget || accountantFor(r).spentAfter(r.charged + 1).epsilon <= budget.epsilon;
}

/** The sites of the current round's roster (U₁), or none before it closed. */
export function rosterSites(r: StudyRecord): number[] {
  return r.roster ? decodeFederated(r.roster, 'roster').advertisements.map((a) => a.site) : [];
}

/** The model file a study publishes: the best round's weights, its threshold, its record. */
export function modelOf(r: StudyRecord): TernaryModel {
  const chosen = r.history.find((h) => h.round === r.best?.round);
  const spent = privacySpent(r);
  return studyModel(r.manifest, r.best?.theta ?? r.theta, r.best?.threshold ?? 0, {
    study: r.manifest.id,
    studyHash: r.hash,
    sites: new Set(r.history.flatMap((h) => (h.outcome === 'done' ? h.survivors : []))).size,
    rounds: r.roundsDone,
    epsilon: r.manifest.privacy ? spent.epsilon : null,
    delta: r.manifest.privacy ? spent.delta : null,
    heldOut: chosen?.heldOut ?? null,
    selectedRound: r.best?.round ?? r.roundsDone,
  });
}

/** The status every site and person reads. */
export function statusOf(r: StudyRecord): StudyStatus {
  const privacy = r.manifest.privacy ? { epsilon: r.manifest.privacy.epsilon, delta: r.manifest.privacy.delta, spent: privacySpent(r).epsilon } : null;
  return {
    federated: 1,
    id: r.manifest.id,
    study: r.hash,
    title: r.manifest.title,
    state: r.state,
    round: r.round,
    step: r.step,
    deadline: r.deadline,
    sites: r.manifest.sites.map((s, k) => ({ index: k + 1, id: s.id, name: s.name })),
    threshold: r.manifest.threshold,
    roundsPlanned: r.manifest.schedule.rounds,
    roundsDone: r.roundsDone,
    privacy,
    history: r.history,
    ...(r.model ? { model: r.model } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/**
 * What the builder says the model predicts and of whom, kept in the model file's training block
 * (its card shows them: src/core/model/about.ts). Empty fields are left out.
 */
export interface ModelAbout {
  /** The outcome as a noun phrase: "a positive diabetes test" (risk "of …", expects "to have …"). */
  outcome: string;
  /** Who the rows are: "768 women of Pima heritage aged 21 or more". */
  who: string;
  sex: '' | 'female' | 'male';
  ageMin?: number;
  ageMax?: number;
}

/** The training-block entries for what the builder said (none for what was left empty). */
export function aboutInfo(about: ModelAbout | undefined): Record<string, unknown> {
  if (!about) return {};
  const outcome = about.outcome.trim();
  const who = about.who.trim();
  const age = { ...(Number.isFinite(about.ageMin) ? { min: about.ageMin } : {}), ...(Number.isFinite(about.ageMax) ? { max: about.ageMax } : {}) };
  return {
    ...(outcome && who ? { outcome: { risk: `of ${outcome}`, expects: `to have ${outcome}`, population: who } } : {}),
    ...(who ? { population: { who, ...(about.sex ? { sex: about.sex } : {}), ...(Object.keys(age).length ? { age } : {}) } } : {}),
  };
}

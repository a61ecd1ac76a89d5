/**
 * What a model's risk is a risk of, and of whom, in words a patient reads: never built from
 * its class names ("CHD in 10 years" is a data set's label, not a sentence, and not a
 * diagnosis). A card carries them from its model's spec (`outcome`); a card without them (from
 * an older service, or a model published without them) gets the default models' words kept
 * here, or neutral words that quote its label.
 */
import type { Outcome } from '../../core/model/about.ts';
import type { ModelCard } from '../../core/model/card.ts';

export type { Outcome };

const OUTCOMES: Record<string, Outcome> = {
  'framingham-chd': {
    risk: 'of coronary heart disease within ten years',
    expects: 'to develop coronary heart disease within ten years',
    population: '4,240 adults followed by the Framingham Heart Study in Massachusetts',
  },
  'pima-diabetes': {
    risk: 'of a positive diabetes test',
    expects: 'to have a positive diabetes test',
    population: '768 women of Pima heritage aged 21 or more',
  },
  'liver-patient': {
    risk: 'of liver disease',
    expects: 'to have liver disease',
    population: '583 people from north-east Andhra Pradesh, India',
  },
  'breast-cancer': {
    risk: 'that the breast mass is malignant (cancer)',
    expects: 'to have a malignant (cancerous) breast mass',
    population: '569 patients in Wisconsin whose breast mass was sampled with a fine needle',
  },
};

/** The fallback words for a model; `classes` (its card's) quote the label of a model not listed here. */
export function outcomeOf(modelId: string, classes?: readonly [string, string]): Outcome {
  const known = OUTCOMES[modelId];
  if (known) return known;
  const label = classes ? `“${classes[1]}”` : 'the outcome it predicts';
  return { risk: `of ${label}`, expects: `to be in the group its data labels ${label}`, population: 'the people in its training data' };
}

/** The words for a card: its own, else the fallback. */
export const cardOutcome = (card: Pick<ModelCard, 'id' | 'classes' | 'outcome'>): Outcome => card.outcome ?? outcomeOf(card.id, card.classes);

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/paths.ts';
import { makeModelCard } from './card.ts';
import { parseModel } from './format.ts';

const read = (path: string) => JSON.parse(readFileSync(join(modelsDir, path), 'utf8')) as Record<string, unknown>;

describe('model card: outcome, minimum and population', () => {
  const model = parseModel(read('pima-diabetes.json'));
  const spec = read('specs/pima-diabetes.json');

  it('carries the spec’s declarations', () => {
    const card = makeModelCard(model, {}, spec);
    expect(card.outcome?.risk).toBe('of a positive diabetes test');
    expect(card.minimum).toEqual({ features: ['glucose', 'bmi', 'age'], atLeast: 4 });
    expect(card.population).toMatchObject({ sex: 'female', age: { min: 21 } });
  });

  it('takes them from the model file’s training block when no spec is given (a lab model)', () => {
    const lab = { ...model, training: { ...model.training, outcome: { risk: 'of x', expects: 'to have x', population: '10 people' }, minimum: { features: ['glucose'], atLeast: 1 } } };
    const card = makeModelCard(lab, {});
    expect(card.outcome?.risk).toBe('of x');
    expect(card.minimum).toEqual({ features: ['glucose'], atLeast: 1 });
    expect(card.population).toBeUndefined();
  });

  it('ignores another model’s spec and a minimum naming features the model lacks', () => {
    expect(makeModelCard(model, {}, { ...spec, id: 'framingham-chd' }).outcome).toBeUndefined();
    const card = makeModelCard(model, {}, { ...spec, minimum: { features: ['total_cholesterol'], atLeast: 2 } });
    expect(card.minimum).toBeUndefined();
    expect(card.outcome).toBeDefined();
  });
});

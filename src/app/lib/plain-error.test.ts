import { describe, expect, it } from 'vitest';
import { plainMessage } from './plain-error.ts';

describe('plainMessage', () => {
  it('keeps the first line, drops control characters and replacement marks', () => {
    expect(plainMessage(new Error('the file is empty\n    at readCsv (csv.ts:12:3)'), 'x')).toBe('the file is empty');
    expect(plainMessage(new Error('bad \u0000\u0007cell \ufffd'), 'x')).toBe('bad cell');
  });
  it('falls back when nothing readable is left, and cuts long text', () => {
    expect(plainMessage(new Error('\u0000\u0001'), 'Training stopped.')).toBe('Training stopped.');
    expect(plainMessage({}, 'fallback')).toBe('fallback');
    expect(plainMessage(new Error('a'.repeat(400)), 'x')).toHaveLength(298);
  });
});

import { describe, expect, it } from 'vitest';
import { FEW_ROWS_PER_BIN, reliabilityBins } from '../core/metrics.ts';
import { calibrationSvg } from './calibration.ts';

/** 200 rows whose risks fill the low bins, and three rows alone in the top bin. */
function rows(): { labels: number[]; risks: number[] } {
  const labels: number[] = [];
  const risks: number[] = [];
  for (let i = 0; i < 200; i++) {
    risks.push((i % 40) / 100);
    labels.push(i % 5 === 0 ? 1 : 0);
  }
  risks.push(0.95, 0.96, 0.97);
  labels.push(1, 1, 0);
  return { labels, risks };
}

describe('calibrationSvg', () => {
  const { labels, risks } = rows();
  const title = 'Coronary heart disease in 10 years (Framingham): reliability on the held-out split (seed 42)';
  const svg = calibrationSvg(title, [{ name: 'TernaryNet', color: '#c2410c', labels, risks }]);

  it('leaves a bin of few rows off the line and draws it hollow', () => {
    const bins = reliabilityBins(labels, risks, 10);
    const few = bins.filter((b) => b.count < FEW_ROWS_PER_BIN);
    expect(few).toHaveLength(1);
    const points = svg.match(/<polyline points="([^"]*)"/)![1]!.split(' ');
    expect(points).toHaveLength(bins.length - few.length);
    const circles = [...svg.matchAll(/<circle [^>]*>/g)].map((m) => m[0]);
    expect(circles.filter((c) => c.includes('fill="#fff"'))).toHaveLength(few.length);
    expect(svg).toContain(`hollow: fewer than ${FEW_ROWS_PER_BIN} rows`);
  });

  it('wraps a long title onto lines that fit the picture', () => {
    const lines = [...svg.matchAll(/<text [^>]*font-size="13">([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join(' ')).toBe(title);
    // About 7 px a character at 13 px: each line inside the 420 px width.
    for (const line of lines) expect(line.length * 7).toBeLessThan(420);
  });
});

/**
 * A reliability (calibration) diagram as a small standalone SVG: predicted risk against the
 * observed share of positives, in ten bins of equal width, one line per model, with the
 * diagonal of perfect calibration. Each dot's area grows with its rows; a bin of fewer than
 * FEW_ROWS_PER_BIN rows is a hollow dot left off the line, and the picture says so in words,
 * since a report's reader sees no tooltip. Date-free and deterministic, so `npm run
 * train:defaults` reproduces it byte for byte.
 */
import { FEW_ROWS_PER_BIN, reliabilityBins } from '../core/metrics.ts';

export interface CalibrationSeries {
  name: string;
  color: string;
  labels: readonly number[];
  risks: readonly number[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Words into lines of at most `width` characters (a title must fit the picture: SVG text does not wrap). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

export function calibrationSvg(title: string, series: readonly CalibrationSeries[]): string {
  const titleLines = wrap(title, 54);
  const W = 420, left = 56, right = 16, top = 24 + 16 * titleLines.length, bottom = 68, H = top + 328 + bottom;
  const pw = W - left - right, ph = H - top - bottom;
  const x = (p: number) => (left + p * pw).toFixed(1);
  const y = (p: number) => (top + (1 - p) * ph).toFixed(1);
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="t">`,
    `<title id="t">${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    ...titleLines.map((line, i) => `<text x="${W / 2}" y="${20 + 16 * i}" text-anchor="middle" font-size="13">${esc(line)}</text>`),
    ...ticks.map((t) => `<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" stroke="#eee"/><line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" stroke="#eee"/>`),
    ...ticks.map((t) => `<text x="${x(t)}" y="${(top + ph + 16).toFixed(1)}" text-anchor="middle">${t.toFixed(1)}</text><text x="${left - 6}" y="${(Number(y(t)) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(1)}</text>`),
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${left + pw / 2}" y="${top + ph + 32}" text-anchor="middle">predicted risk (mean per bin)</text>`,
    `<text x="${left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="10" fill="#555">A dot's area grows with its rows; hollow: fewer than ${FEW_ROWS_PER_BIN} rows, off the line.</text>`,
    `<text x="14" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + ph / 2})">observed share with the condition</text>`,
  ];
  series.forEach((s, k) => {
    const bins = reliabilityBins(s.labels, s.risks, 10);
    const points = bins.filter((b) => b.count >= FEW_ROWS_PER_BIN).map((b) => `${x(b.predicted)},${y(b.observed)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    for (const b of bins) {
      const look = b.count >= FEW_ROWS_PER_BIN ? `fill="${s.color}" fill-opacity="0.6"` : `fill="#fff" stroke="${s.color}" stroke-width="1.2"`;
      parts.push(`<circle cx="${x(b.predicted)}" cy="${y(b.observed)}" r="${(2 + Math.sqrt(b.count) / 3).toFixed(1)}" ${look}><title>${esc(s.name)}: ${b.count} rows, predicted ${(100 * b.predicted).toFixed(1)}%, observed ${(100 * b.observed).toFixed(1)}%</title></circle>`);
    }
    const ly = top + 14 + 16 * k;
    parts.push(`<line x1="${left + 10}" y1="${ly}" x2="${left + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"/><text x="${left + 34}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Small formatters shared by the screens. */
import type { BackendName } from './train-bridge.ts';

/** TensorFlow.js backends by the names people know, for the lab and the study site. */
export const BACKEND_NAMES: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'JavaScript (CPU)' };

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/**
 * A risk as a percentage, never a flat 0% or 100%: a statistical model is never that sure, and
 * its decoding rounds to those values only far outside the data it learned from.
 */
export function percent(p: number): string {
  const v = p * 100;
  if (v < 1) return '<1%';
  if (v > 99) return '>99%';
  return `${Math.round(v)}%`;
}

/** A risk as a count of 100 people: "about 16", "fewer than 1", "more than 99" (never "100"). */
export function per100(p: number): string {
  const v = p * 100;
  if (v < 1) return 'fewer than 1';
  if (v > 99) return 'more than 99';
  return `about ${Math.round(v)}`;
}

/** "ab12 cd34 ef56 7890": a fingerprint people can read aloud and compare. */
export function fingerprint(fp: string): string {
  return fp.match(/.{1,4}/g)?.join(' ') ?? fp;
}

export function shortHash(h: string): string {
  return `${h.slice(0, 12)}…`;
}

export function dateTime(iso: string | number | Date): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** An instant (ISO 8601 with a time) as a date in this browser's time zone. */
export function date(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/**
 * A FHIR date or dateTime as the calendar date it names, as written: "1963-09-27" is
 * 27 Sep 1963 in every time zone (never read as midnight UTC and shown in local time, which is
 * the day before west of Greenwich), and "2021-03-22T00:48:33+00:00" is 22 Mar 2021, the date
 * where it was recorded. "1963-09" and "1963" stay a month and a year.
 */
export function calendarDate(fhir: string): string {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(fhir);
  if (!m) return fhir;
  const [, y, mo, d] = m;
  const day = new Date(0);
  day.setUTCFullYear(Number(y), mo ? Number(mo) - 1 : 0, d ? Number(d) : 1);
  if (Number.isNaN(day.getTime())) return fhir;
  const options: Intl.DateTimeFormatOptions = d ? { dateStyle: 'medium' } : mo ? { year: 'numeric', month: 'short' } : { year: 'numeric' };
  return day.toLocaleDateString(undefined, { ...options, timeZone: 'UTC' });
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

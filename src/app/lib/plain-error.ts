/**
 * An error as a sentence a person can read: its first line only (never a stack), without
 * control characters, cut to a readable length; a fallback when nothing readable is left.
 */
export function plainMessage(e: unknown, fallback: string): string {
  const raw = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
  // eslint-disable-next-line no-control-regex
  const line = (raw.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '').trim();
  if (!line) return fallback;
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

/**
 * The rooms the code lives in, enforced by tools so that `npm test` fails when one is broken:
 *  - every Svelte component and the code it uses type-checks (svelte-check-native: svelte-check
 *    for TypeScript 7, which has no JavaScript API for svelte-check to call);
 *  - the import rules of .dependency-cruiser.cjs hold (src/core free of Node, browser-only
 *    libraries and app code; the app free of benchmark output; no import cycles);
 *  - the page imports worker modules for their types only (swc reads each import, since
 *    dependency-cruiser's swc reader does not tell type imports apart).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseSync } from '@swc/core';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const bin = (name: string) => resolve(root, 'node_modules/.bin', name);
/** Value imports of worker code by the page, listed to be fixed (see the last test). */
const KNOWN_WORKER_VALUE_IMPORTS: string[] = [];
/** Import-rule violations that predate the rules (dependency-cruiser's baseline). */
const KNOWN = '.dependency-cruiser-known-violations.json';

function run(command: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(resolve(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => relative(root, join(d.parentPath, d.name)));
}

describe('rooms', () => {
  it('every component type-checks (svelte-check)', () => {
    const { status, output } = run(bin('svelte-check-native'), ['--tsconfig', 'tsconfig.app.json', '--output', 'machine', '--threshold', 'warning']);
    const problems = output.split('\n').filter((l) => / (ERROR|WARNING) /.test(l));
    expect(problems, output).toEqual([]);
    expect(status, output).toBe(0);
    // It looked at the components: the summary counts files.
    expect(Number(/COMPLETED (\d+) FILES/.exec(output)?.[1] ?? 0), output).toBeGreaterThan(10);
  });

  it('imports follow the rooms, without cycles (dependency-cruiser)', () => {
    // Violations found before these rules existed are listed in the known-violations file, each
    // to be fixed by its module's owner; any other fails here. Fixing one: remove it from the file.
    const { status, output } = run(bin('depcruise'), ['src', 'workers', '--config', '.dependency-cruiser.cjs', '--ignore-known', KNOWN, '--output-type', 'err']);
    expect(status, output).toBe(0);
    expect(output).toMatch(/no dependency violations found \(\d{3,} modules/);
    const known = JSON.parse(readFileSync(resolve(root, KNOWN), 'utf8')) as { from: string; to: string; rule: { name: string } }[];
    if (known.length) console.warn(`${known.length} known import-rule violations still to fix:\n${known.map((k) => `  ${k.rule.name}: ${k.from} → ${k.to}`).join('\n')}`);
    // The list only shrinks: every entry in it is still a violation (a fixed one is taken out).
    const all = run(bin('depcruise'), ['src', 'workers', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']).output;
    for (const k of known) expect(all, `${k.from} → ${k.to} no longer breaks ${k.rule.name}: remove it from ${KNOWN}`).toContain(k.rule.name === 'no-circular' ? k.from : `${k.from} → ${k.to}`);
  });

  it('the page imports worker code for its types only', () => {
    const offending: string[] = [];
    const files = filesUnder('src/app', /\.(ts|svelte)$/).filter((f) => !/\.test\.(svelte\.)?ts$/.test(f));
    for (const file of files) {
      const text = readFileSync(resolve(root, file), 'utf8');
      // A component's imports are in its <script> blocks.
      const source = file.endsWith('.svelte') ? [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') : text;
      const module = parseSync(source, { syntax: 'typescript', target: 'es2022' });
      for (const item of module.body) {
        if ((item.type !== 'ImportDeclaration' && item.type !== 'ExportNamedDeclaration' && item.type !== 'ExportAllDeclaration') || !item.source) continue;
        if (!/(^|\/)workers\//.test(item.source.value)) continue;
        const typeOnly = ('typeOnly' in item && item.typeOnly) || (item.type === 'ImportDeclaration' && item.specifiers.length > 0 && item.specifiers.every((s) => s.type === 'ImportSpecifier' && s.isTypeOnly));
        if (!typeOnly) offending.push(`${file} imports ${item.source.value}`);
      }
    }
    expect(files.length).toBeGreaterThan(20);
    // Known, to be fixed by the module's owner (and then taken out of this list): a pure module
    // kept under workers/ that the page also uses belongs in src/core.
    expect(offending.filter((o) => !KNOWN_WORKER_VALUE_IMPORTS.includes(o))).toEqual([]);
    for (const known of KNOWN_WORKER_VALUE_IMPORTS) expect(offending, `${known} is fixed: take it out of KNOWN_WORKER_VALUE_IMPORTS`).toContain(known);
  });
});

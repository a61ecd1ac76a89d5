/**
 * docs/protocol.md is what a client is written from (tests/support/independent-client.ts is one),
 * so it must say what the service does. Its generated regions must equal what the generator
 * makes from the served cards today (`npm run docs:protocol` rewrites them); its error table
 * must list every code with its status; its field tables must name every field a served card
 * and plan carry. And the real service must serve the cards the generator builds, and a client
 * written from the page must decrypt the worked examples to the scores the page shows.
 */
import { readFile, rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, PROTOCOL_DOC, protocolRegions, readRegions, servedDefaults, workedExample } from '../tools/protocol-doc.ts';
import { leanRegions, readLeanRecord } from '../tools/lean-doc.ts';
import { ERROR_STATUS } from '../src/core/protocol/errors.ts';
import { IndependentClient } from './support/independent-client.ts';
import { modelsDir, startTestServer } from './support/server-harness.ts';

const doc = await readFile(PROTOCOL_DOC, 'utf8');

/** The text of a `## n.` section up to the next `## ` heading. */
function section(number: string): string {
  const start = doc.indexOf(`\n## ${number}. `);
  expect(start, `docs/protocol.md has no section ${number}`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/protocol.md', () => {
  it('has every generated region as the served cards, constants and the lean bench record of today\'s plans make it (run npm run docs:protocol)', async () => {
    const expected = protocolRegions(await servedDefaults(), await readLeanRecord());
    const actual = readRegions(doc);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, text] of Object.entries(expected)) expect(actual[name], `region ${name} is out of date: run npm run docs:protocol`).toBe(text);
  }, 90_000);

  it("refuses to write §9 from a lean bench record of other plans than today's (a retrained model needs bench/lean.ts again)", async () => {
    const record = await readLeanRecord();
    const today = new Map(record.models.map((m) => [m.model, m.planHash] as const));
    expect(() => leanRegions(record, today)).not.toThrow();
    const retrained = new Map(today).set('pima-diabetes', '0'.repeat(64));
    expect(() => leanRegions(record, retrained)).toThrow(/pima-diabetes measured on another plan\): run nice -n 10 npx tsx bench\/lean\.ts/);
    expect(() => leanRegions(record, new Map(today).set('new-model', '1'.repeat(64)))).toThrow(/new-model missing/);
  });

  it('lists every error code with its HTTP status in §6, and no other', () => {
    const rows = [...section('6').matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map(([, status, code]) => [code!, Number(status)] as const);
    const documented = new Map(rows);
    expect(rows.length, 'a code appears twice in §6').toBe(documented.size);
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(documented.get(code), `§6 row for ${code}`).toBe(status);
    expect([...documented.keys()].filter((code) => !(code in ERROR_STATUS)), 'codes in §6 that src/core/protocol/errors.ts does not have').toEqual([]);
  });

  it('names in §3 every field a served card and plan carry', async () => {
    const fields = new Set<string>();
    const collect = (value: unknown, depth: number) => {
      if (value === null || typeof value !== 'object' || depth === 0) return;
      for (const [key, child] of Object.entries(value)) {
        if (!Array.isArray(value)) fields.add(key);
        collect(child, depth - 1);
      }
    };
    for (const { card } of await servedDefaults()) {
      const { plans, metrics: _informative, ...rest } = card;
      collect(rest, 3); // card, features[i], input, output
      for (const plan of Object.values(plans)) collect(plan, 3); // plan, params, circuit, circuit.single, report
    }
    // Names in backticks in §3's tables (not in its generated examples, which show every field).
    const tables = section('3')
      .replace(/<!-- generated:([a-z0-9-]+) -->[\s\S]*?<!-- \/generated:\1 -->/g, '')
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .join('\n');
    const named = new Set([...tables.matchAll(/`([^`]+)`/g)].flatMap(([, span]) => span!.split(/[^A-Za-z0-9_]+/)));
    const missing = [...fields].filter((f) => !named.has(f));
    expect(missing, 'fields the served cards carry that §3 does not describe').toEqual([]);
  }, 90_000);

  it('is what the service serves: the same cards, and the worked examples decrypt to the scores shown', async () => {
    const all = await servedDefaults();
    const shown = all.filter(({ model }) => EXAMPLES.some((ex) => ex.id === model.id));
    const dir = await modelsDir(shown.map((s) => s.model));
    const server = await startTestServer({ modelDirs: [dir], workers: 1 });
    try {
      while ((await fetch(`${server.url}/api/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 200));
      const withoutReports = (card: unknown) => JSON.parse(JSON.stringify(card, (key, value) => (key === 'report' ? undefined : value)));
      const { cards } = (await (await fetch(`${server.url}/api/models`)).json()) as { cards: unknown[] };
      expect(cards.map(withoutReports)).toEqual(shown.map(({ card }) => withoutReports(card)));
      for (const ex of EXAMPLES) {
        const { values, y } = workedExample(all, ex);
        const client = await IndependentClient.connect(server.url, ex.id, ex.layout);
        try {
          expect((await client.registerKeys()).status).toBe(201);
          expect(await client.classify([client.quantize(values)])).toEqual([y]);
        } finally {
          client.dispose();
        }
      }
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

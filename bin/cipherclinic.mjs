#!/usr/bin/env node
// Command-line entry. node-seal needs Node ≥ 22 (WebAssembly GC and exception handling); when an
// older Node starts this file, hand over to the Node 24 installed as a devDependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(local)) {
    console.error(`cipherclinic needs Node 22 or newer (this is ${process.version}); run \`npm install\` in the repository first.`);
    process.exit(1);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');

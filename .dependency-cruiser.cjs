/**
 * The rooms the code lives in, enforced (tests/rooms.test.ts runs this in `npm test`):
 *  - src/core runs anywhere: no Node built-ins, no browser-only libraries, no app, worker,
 *    server or CLI code;
 *  - (the page reaching worker code only through types is checked in tests/rooms.test.ts:
 *    swc, which reads the TypeScript here, does not mark type-only imports);
 *  - the app never reads benchmark output (bench/), which is a report, not an input;
 *  - no import cycles anywhere (type imports included: a cycle of types is still a knot).
 */
// TypeScript 7 has no JavaScript API, so the TypeScript sources are read with swc. swc's
// visitor (which dependency-cruiser walks the syntax tree with) predates `using`
// declarations and throws on them: visit their declarators as it does a `const`'s.
const { Visitor } = require('@swc/core/Visitor.js');
const visitStatement = Visitor.prototype.visitStatement;
Visitor.prototype.visitStatement = function (statement) {
  if (statement.type !== 'UsingDeclaration') return visitStatement.call(this, statement);
  statement.decls = this.visitVariableDeclarators(statement.decls);
  return statement;
};

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or through others, cannot be understood or tested one at a time.',
      from: { path: '^(src|workers)/' },
      to: { circular: true },
    },
    {
      name: 'core-not-node',
      severity: 'error',
      comment: 'src/core runs in the browser, workers and Node alike: no Node built-ins.',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-not-browser-only',
      severity: 'error',
      comment: 'src/core runs in Node too: no IndexedDB, comlink, Svelte or PWA libraries (they belong to src/app or workers/).',
      from: { path: '^src/core/' },
      to: { path: '(^|/)node_modules/(idb-keyval|comlink|svelte|workbox-[^/]+|vite-plugin-pwa)/|^virtual:' },
    },
    {
      name: 'core-not-app',
      severity: 'error',
      comment: 'src/core is the shared base: it never imports the app, the workers, the server or the CLI.',
      from: { path: '^src/core/' },
      to: { path: '^(src/(app|server|cli|train)|workers)/' },
    },
    {
      name: 'app-not-server',
      severity: 'error',
      comment: 'The page never imports the Node service or the CLI.',
      from: { path: '^src/app/' },
      to: { path: '^src/(server|cli)/' },
    },
    {
      name: 'app-not-bench',
      severity: 'error',
      comment: 'Benchmark output is a report for people, not an input of the app.',
      from: { path: '^src/app/' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.(svelte\\.)?ts$|^src/.*/fixtures\\.ts$' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.svelte', '.json'] },
    extraExtensionsToScan: ['.svelte'],
  },
};

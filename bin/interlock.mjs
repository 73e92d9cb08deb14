#!/usr/bin/env node
// `interlock` command. In a clone (src/ present, tsx installed by `npm ci`) it runs the
// TypeScript sources through tsx, so no build step is needed; from the published package
// (only dist/) it runs the built CLI.
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/src/cli/main.js', import.meta.url);

let main;
if (existsSync(src) && (await canUseTsx())) {
  const { tsImport } = await import('tsx/esm/api');
  ({ main } = await tsImport(src.href, import.meta.url));
} else if (existsSync(dist)) {
  ({ main } = await import(dist.href));
} else {
  process.stderr.write('interlock: neither src/ with tsx (run `npm ci`) nor dist/ (run `npm run build`) found\n');
  process.exit(1);
}
await main(process.argv.slice(2));

async function canUseTsx() {
  try {
    await import('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

/**
 * docs/client.md against the code: every client error code has its section (and nothing
 * else does), every close code the client sends itself is named, and every ```ts block
 * type-checks against the source (test/docs/blocks.ts; they need a server, so none runs:
 * the README's subscription example runs against `interlock serve` in test/docs/readme.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalClose } from '../../src/client/Connection.js';
import { ClientCodes } from '../../src/client/errors.js';
import { mapImports, root, tsBlocks, typeCheck, type Block } from '../docs/blocks.js';

const doc = readFileSync(join(root, 'docs', 'client.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'interlock-client-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/client.md', () => {
  it('has a section for every client error code, and none for a code that does not exist', () => {
    const documented = [...doc.matchAll(/^### (INTERLOCK_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ClientCodes).sort());
  });

  it('names every close code the client sends itself', () => {
    for (const [name, code] of Object.entries(LocalClose)) expect(doc, name).toContain(String(code));
  });

  it('has ts blocks that type-check as written, each saying why it does not run', () => {
    const blocks = tsBlocks(doc);
    expect(blocks.length).toBeGreaterThan(0);
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'junction');
    const fileOf = (b: Block) => join(dir, `client-${b.line}.mts`);
    for (const b of blocks) {
      expect({ line: b.line, mode: b.mode }).toEqual({ line: b.line, mode: 'no-run' });
      expect(b.reason.length).toBeGreaterThanOrEqual(10);
      writeFileSync(fileOf(b), mapImports(b.code, dir));
    }
    const errors = typeCheck('docs/client.md', blocks, fileOf);
    expect([...errors.values()].flat()).toEqual([]);
  }, 60_000);
});

/**
 * Every ```ts block of README.md is a program that must type-check and run as written.
 *
 * Each block is written to a temp dir as its own module, with its imports of 'interlock',
 * 'interlock/machines' and 'interlock/client' pointed at this repo's source (same line
 * numbers, so errors name README lines; test/docs/blocks.ts), type-checked with the repo's
 * compiler options, then run with `node --import tsx`; it must exit 0 on its own. A block
 * that cannot run here opts out with a first line `// readme-test: no-run <why>`
 * (type-checked, not run; e.g. it needs a running server) or `// readme-test: skip <why>`
 * (neither), and the reason is required.
 *
 * Blocks that talk to `interlock serve` at http://127.0.0.1:8080 (or its WebSocket,
 * ws://127.0.0.1:8080) run against a real one: the test starts the server as the README's
 * first command does (in-memory runtime, simulated model), on port 0, and points the block
 * at it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs, serve, type Served } from '../../src/cli/serve.js';
import { mapImports, root, tsBlocks, typeCheck, type Block } from './blocks.js';

const README = join(root, 'README.md');

function run(file: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The timeout only bounds a hung block; nothing asserts on time.
    execFile(process.execPath, ['--import', 'tsx', file], { cwd, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const blocks = tsBlocks(readFileSync(README, 'utf8'));
const label = (b: Block) => `README.md:${b.line} (${b.heading})`;
let dir: string;
let server: Served | undefined;
/** The README's server address, pointed at the one this test started. */
const atServer = (code: string) =>
  server ? code.split('http://127.0.0.1:8080').join(server.url).split('ws://127.0.0.1:8080').join(server.url.replace(/^http/, 'ws')) : code;
const fileOf = (b: Block) => join(dir, `readme-${b.line}.mts`);
let errorsOf = new Map<Block, string[]>();
const runs = new Map<Block, ReturnType<typeof run>>();
/** Each block runs once; the tests that look at its output share the run. */
const runOnce = (b: Block) => runs.get(b) ?? (runs.set(b, run(fileOf(b), dir)), runs.get(b)!);

beforeAll(async () => {
  if (blocks.some((b) => b.code.includes('http://127.0.0.1:8080') || b.code.includes('ws://127.0.0.1:8080'))) {
    server = await serve(parseServeArgs(['--port', '0', '--log-level', 'silent'], {}), () => {});
  }
  dir = mkdtempSync(join(tmpdir(), 'interlock-readme-'));
  // So the blocks resolve xstate, rxjs and tsx like the repo does.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'junction');
  const checked = blocks.filter((b) => b.mode !== 'skip');
  for (const b of checked) writeFileSync(fileOf(b), mapImports(atServer(b.code), dir));

  errorsOf = typeCheck('README.md', checked, fileOf);
}, 120_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server?.shutdown();
});

describe('README.md code blocks', () => {
  it('has TypeScript blocks, and every opt-out says why', () => {
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) if (b.mode !== 'run') expect(b.reason.length, `${label(b)}: a readme-test marker needs a reason`).toBeGreaterThanOrEqual(10);
  });

  describe.each(blocks.map((b) => [label(b), b] as const))('%s', (_, block) => {
    it.skipIf(block.mode === 'skip')('type-checks as written', () => {
      expect(errorsOf.get(block) ?? []).toEqual([]);
    });

    it.skipIf(block.mode !== 'run')('runs as written and exits 0', async () => {
      const result = await runOnce(block);
      expect(result.code, `${label(block)} exited ${result.code}\n${result.stderr}\n${result.stdout}`).toBe(0);
    });
  });

  it("the WebSocket client block prints the session's records gapless (from its snapshot if it was live), then the answer", async () => {
    const block = blocks.find((b) => b.code.includes("from 'interlock/client'"));
    expect(block, "README has a ts block that imports 'interlock/client'").toBeDefined();
    const { code, stdout, stderr } = await runOnce(block!);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    // Records ('<seq> <type>') first, then the answer (an object over several lines).
    const answer = lines.findIndex((l) => !/^\d+ [a-z.]+$/.test(l));
    expect(answer, stdout).toBeGreaterThan(0);
    expect(lines.slice(answer).join('\n'), stdout).toContain('You said');
    const records = lines.slice(0, answer).map((l) => /^(\d+) ([a-z.]+)$/.exec(l));
    const seqs = records.map((m) => Number(m![1]));
    // Another block may have woken session/demo first: then the stream starts with its snapshot.
    expect(seqs[0] === 1 || records[0]![2] === 'snapshot', stdout).toBe(true);
    expect(seqs, stdout).toEqual(seqs.map((_, i) => seqs[0]! + i));
    // The reply's record arrives before the answer does; after it, at most the inspection
    // record of the transition that sent the reply (serve inspects watched actors).
    const types = records.map((m) => m![2]);
    const replied = types.lastIndexOf('turn.replied');
    expect(replied, stdout).toBeGreaterThan(0);
    expect(types.slice(replied + 1).every((t) => t === 'transition'), stdout).toBe(true);
  });

  it("'Use it' answers the chat, and its bus subscription sees the request delivered before the answer", async () => {
    const block = blocks.find((b) => b.heading === 'Use it');
    expect(block, "README has a '## Use it' ts block").toBeDefined();
    const { code, stdout, stderr } = await runOnce(block!);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    const delivered = lines.findIndex((l) => l.startsWith('mailbox.delivered agent/user-42'));
    const answered = lines.indexOf('you said: hi');
    expect(answered, stdout).toBeGreaterThanOrEqual(0);
    expect(delivered, `no 'mailbox.delivered' record before the answer:\n${stdout}`).toBeGreaterThanOrEqual(0);
    expect(delivered).toBeLessThan(answered);
  });
});

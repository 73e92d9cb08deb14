/**
 * The ```ts blocks of a markdown file as programs: found with their line numbers, their
 * imports of the package (`interlock`, `interlock/machines`, `interlock/client`) pointed at
 * this repo's source, and type-checked with the repo's compiler options, errors charged to
 * markdown lines. Used by test/docs/readme.test.ts (which also runs the README's blocks)
 * and test/client/docs.test.ts (docs/client.md).
 *
 * A block opts out of running with a first line `// readme-test: no-run <why>` (type-checked,
 * not run) or of both with `// readme-test: skip <why>`; the reason is required.
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Block {
  /** Markdown line of the block's first code line (1-based). */
  line: number;
  heading: string;
  code: string;
  mode: 'run' | 'no-run' | 'skip';
  reason: string;
}

const MARKER = /^\s*\/\/\s*readme-test:\s*(no-run|skip)\b[\s:—–-]*(.*)$/;

/** The ```ts / ```typescript blocks of a markdown text. */
export function tsBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)$/.exec(lines[i]!);
    if (h) heading = h[1]!;
    const open = /^(\s*)(`{3,}|~{3,})\s*(\w+)?/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
    if (['ts', 'typescript', 'mts', 'tsx'].includes(open[3] ?? '')) {
      const code = lines.slice(i + 1, end).join('\n');
      const marker = MARKER.exec(code.split('\n').find((l) => l.trim() !== '') ?? '');
      blocks.push({ line: i + 2, heading, code, mode: (marker?.[1] as Block['mode']) ?? 'run', reason: marker?.[2]?.trim() ?? '' });
    }
    i = end;
  }
  return blocks;
}

const TARGETS: Record<string, string> = {
  interlock: 'src/index.ts',
  'interlock/machines': 'machines/index.ts',
  'interlock/client': 'src/client/index.ts',
};

/** Points the package's entry points at the source; every other import is left alone. */
export function mapImports(code: string, dir: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(interlock(?:\/[\w/-]+)?)\2/g, (all, pre: string, q: string, spec: string) => {
    const target = TARGETS[spec];
    return target ? `${pre}${q}${relative(dir, join(root, target)).split('\\').join('/')}${q}` : all;
  });
}

/**
 * Type-checks the blocks, each already written to `fileOf(block)`; returns each block's
 * errors as `<doc>:<line>:<col> TS<code>: message` (an error outside every block, in the
 * source itself, is charged to all of them).
 */
export function typeCheck(doc: string, blocks: Block[], fileOf: (b: Block) => string): Map<Block, string[]> {
  const errorsOf = new Map<Block, string[]>();
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, allowImportingTsExtensions: true, declaration: false, rootDir: undefined, outDir: undefined };
  const program = ts.createProgram(blocks.map(fileOf), options);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const owner = blocks.find((b) => d.file?.fileName === fileOf(b).split('\\').join('/'));
    if (owner && d.file && d.start !== undefined) {
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      errorsOf.set(owner, [...(errorsOf.get(owner) ?? []), `${doc}:${owner.line + line}:${character + 1} TS${d.code}: ${message}`]);
    } else {
      for (const b of blocks) errorsOf.set(b, [...(errorsOf.get(b) ?? []), `${d.file?.fileName ?? '(program)'} TS${d.code}: ${message}`]);
    }
  }
  return errorsOf;
}

/** What the numbers were measured on: machine, runtime, package versions, and which Interlock. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

export interface Env {
  date: string;
  cpu: string;
  cpuMHz: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  v8: string;
  packages: Record<string, string>;
  git: string;
  srcHash: string;
  srcDirty: string[];
}

const PACKAGES = ['xstate', 'rxjs', 'eventsource-parser', 'p-queue', 'async-mutex', 'tsx', 'esbuild', 'typescript'];

function cpuinfo(field: string): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(field));
    return line?.split(':')[1]?.trim() ?? '?';
  } catch {
    return '?';
  }
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join('node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** sha256 over src/ (paths and contents, sorted), so a table can be matched to the exact code. */
function hashTree(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 12);
}

export function probeEnv(): Env {
  return {
    date: new Date().toISOString(),
    cpu: cpuinfo('model name'),
    cpuMHz: cpuinfo('cpu MHz'),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
    git: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    srcHash: hashTree('src'),
    srcDirty: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean),
  };
}

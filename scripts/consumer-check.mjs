// Checks the package as a user gets it: packs the built dist/ (run `npm run build` first),
// installs the tarball into a temp copy of test/consumer/ together with the lowest xstate
// and rxjs our peerDependencies allow (the repo's own tests run the newest, from the lock
// file), type-checks the app with skipLibCheck: false under moduleResolution NodeNext and
// Bundler, then runs it with node so the ESM entry points must resolve at run time. Last,
// `npx interlock serve` from that install answers a chat: the CLI's own dependencies
// (fastify, pino, prom-client) must come with the package (docs/http.md, "Packaging").
// Needs the npm registry (or its cache) for xstate, rxjs and @types/node; nothing else.
//
//   node scripts/consumer-check.mjs [--keep]     (--keep leaves the temp dir for a look)
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}
function step(name, fn) {
  const t0 = Date.now();
  try {
    const out = fn();
    console.log(`consumer check: ${name} (${Date.now() - t0} ms)`);
    return out;
  } catch (err) {
    console.error(`consumer check FAILED at: ${name}`);
    console.error([err.stdout, err.stderr].filter(Boolean).join('\n') || err.message);
    if (!keep) rmSync(tmp, { recursive: true, force: true });
    else console.error(`left in ${tmp}`);
    process.exit(1);
  }
}
/** The lowest version a `^x.y.z` range admits. */
function lowest(name) {
  const range = pkg.peerDependencies?.[name];
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range ?? '');
  if (!m) throw new Error(`peerDependencies.${name} is '${range}'; this script understands only ^x.y.z`);
  return m[1];
}

const INSPECTOR_CHECK = `
import { createRuntime } from 'interlock';
import { workerMachine } from 'interlock/machines';
import { createGatewayServer } from 'interlock/gateway';
const runtime = createRuntime({ kinds: { worker: { machine: workerMachine({ process: async (x) => x }) } } });
const { app } = await createGatewayServer(runtime, { logger: false, defaultMetrics: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = 'http://127.0.0.1:' + app.server.address().port + '/inspector/';
const html = await fetch(base);
const js = await fetch(base + 'app.js');
const body = await js.text();
// app.js and the chunks it imports (ELK's is loaded with the first chart): every one served.
let size = body.length;
for (const chunk of new Set(body.match(/chunk-[A-Za-z0-9]+\\.js/g) ?? [])) {
  const r = await fetch(base + chunk);
  if (r.status !== 200) throw new Error('inspector chunk not served: ' + chunk + ' ' + r.status);
  size += (await r.text()).length;
}
await app.close();
await runtime.shutdown();
if (html.status !== 200 || js.status !== 200 || size < 1000000) throw new Error('inspector not served: ' + html.status + ' ' + js.status + ' ' + size + ' bytes');
console.log('inspector ok');
`;

for (const entry of Object.values(pkg.exports)) {
  if (!existsSync(join(root, entry.import)) || !existsSync(join(root, entry.types))) {
    console.error(`consumer check: ${entry.import} or ${entry.types} is missing; run \`npm run build\` first.`);
    process.exit(1);
  }
}
const tmp = mkdtempSync(join(tmpdir(), 'interlock-consumer-'));
const app = join(tmp, 'app');

const packed = step('npm pack', () => JSON.parse(run(npm, ['pack', '--json', '--pack-destination', tmp], root))[0]);
step('tarball holds dist/ and the bin only', () => {
  const files = packed.files.map((f) => f.path);
  const stray = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'bin/interlock.mjs'].includes(f));
  if (stray.length > 0) throw new Error(`unexpected files in the tarball: ${stray.join(', ')}`);
  for (const entry of Object.values(pkg.exports)) {
    for (const f of [entry.import, entry.types]) if (!files.includes(f.replace(/^\.\//, ''))) throw new Error(`tarball lacks ${f}`);
  }
  for (const f of ['index.html', 'app.js', 'app.css']) if (!files.includes(`dist/inspector/${f}`)) throw new Error(`tarball lacks dist/inspector/${f}`);
});

cpSync(join(root, 'test', 'consumer'), app, { recursive: true, filter: (src) => !/[/\\](node_modules|out)$/.test(src) });
const typesNode = JSON.parse(readFileSync(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version;
const deps = [join(tmp, packed.filename), `xstate@${lowest('xstate')}`, `rxjs@${lowest('rxjs')}`, `@types/node@${typesNode}`];
step(`npm install ${deps.map((d) => d.replace(tmp, '<tmp>')).join(' ')}`, () =>
  run(npm, ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', ...deps], app),
);
step('one copy of xstate and rxjs (peers, not nested)', () => {
  for (const dup of ['xstate', 'rxjs']) {
    if (existsSync(join(app, 'node_modules', 'interlock', 'node_modules', dup))) throw new Error(`interlock brought its own ${dup}`);
  }
});
step('tsc, moduleResolution NodeNext, skipLibCheck false', () => run(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], app));
step('tsc, moduleResolution Bundler, skipLibCheck false', () => run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], app));
const out = step('node out/app.js', () => run(process.execPath, ['out/app.js'], app));
if (!out.includes('consumer ok')) step('app output', () => { throw new Error(`expected 'consumer ok', got:\n${out}`); });
// The inspector page ships built (dist/inspector/): the installed gateway serves it without a build step.
const served = step('the installed gateway serves /inspector/ from dist/inspector/', () =>
  run(process.execPath, ['--input-type=module', '-e', INSPECTOR_CHECK], app),
);
if (!served.includes('inspector ok')) step('inspector output', () => { throw new Error(`expected 'inspector ok', got:\n${served}`); });
await serveCheck();

if (keep) console.log(`consumer check: left in ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
console.log(`consumer check: ok (interlock ${pkg.version} with xstate ${lowest('xstate')}, rxjs ${lowest('rxjs')})`);

/** `npx interlock serve` in the consumer app (its own process group), one chat, then SIGTERM to that group. */
async function serveCheck() {
  const t0 = Date.now();
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const child = spawn(npx, ['--no-install', 'interlock', 'serve', '--port', '0', '--log-level', 'silent'], {
    cwd: app,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, INTERLOCK_TOKEN: '' },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let problem;
  try {
    let url;
    while (!(url = /listening on (http:\/\/\S+)/.exec(err)?.[1])) {
      if (Date.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`it did not start:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'interlock-simulated', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const answer = (await res.json())?.choices?.[0]?.message?.content;
    if (res.status !== 200 || typeof answer !== 'string' || answer === '') throw new Error(`chat answered ${res.status}: ${JSON.stringify(answer)}`);
  } catch (e) {
    problem = e;
  } finally {
    if (child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  }
  await exited;
  if (problem) step('npx interlock serve from the tarball', () => { throw problem; });
  console.log(`consumer check: npx interlock serve from the tarball answers a chat (${Date.now() - t0} ms)`);
}

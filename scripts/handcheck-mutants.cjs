// Re-checks a sample of a Stryker run's timed-out mutants by hand: applies each to its file,
// runs the test files that covered it (default Stryker set only) with a 30 s test timeout,
// restores the file, and says survived / killed / hung. A timeout on a loaded machine may be
// a survivor (docs/TESTING.md, machines/); this tells how many.
//   node scripts/handcheck-mutants.cjs reports/mutation/mutation.json 12 7   # 12 mutants, seed 7
// Run it on a clean tree with no other process editing the mutated files.
const fs = require('fs');
const { execSync } = require('child_process');
const r = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const N = +process.argv[3];
let seed = +process.argv[4];
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const names = {};
for (const [f, d] of Object.entries(r.testFiles || {})) for (const t of d.tests) names[t.id] = f;
const all = [];
for (const [f, d] of Object.entries(r.files)) for (const m of d.mutants) if (m.status === 'Timeout') all.push([f, m]);
const pick = [];
while (pick.length < N && all.length) pick.push(all.splice(Math.floor(rnd() * all.length), 1)[0]);
for (const [f, m] of pick) {
  const src = r.files[f].source;
  const lines = src.split('\n');
  const off = (p) => lines.slice(0, p.line - 1).reduce((a, l) => a + l.length + 1, 0) + p.column - 1;
  const mutated = src.slice(0, off(m.location.start)) + m.replacement + src.slice(off(m.location.end));
  const orig = fs.readFileSync(f, 'utf8');
  if (orig !== src) { console.log(m.id, 'source changed, skipped'); continue; }
  const files = [...new Set((m.coveredBy || []).map((id) => names[id]))].filter((x) => !/test\/(model|gateway|transport|client|browser|inspector|docs|bench)\//.test(x));
  fs.writeFileSync(f, mutated);
  let out = 'survived';
  const t0 = Date.now();
  try {
    execSync(`npx vitest run --testTimeout 30000 ${files.join(' ')}`, { stdio: 'pipe', timeout: 240000 });
  } catch (e) {
    out = e.signal ? 'hung (killed at 240 s)' : 'killed';
  } finally {
    fs.writeFileSync(f, orig);
  }
  console.log(`${m.id} ${f}:${m.location.start.line} ${m.mutatorName} ${JSON.stringify(m.replacement).slice(0, 40)} -> ${out} (${files.length} files, ${Math.round((Date.now() - t0) / 1000)} s)`);
}

// Makes the next incremental Stryker run test again every mutant that survived or had no
// coverage: deletes those results from the incremental file, keeping the killed, timed-out
// and ignored ones. Needed after adding or changing tests: Stryker's incremental mode reuses
// an old "survived" (or "no coverage") result even when a new test file now reaches the
// mutant, and when a test keeps its name but gains the case that kills it (docs/TESTING.md).
//   node scripts/stryker-retest-survivors.cjs reports/stryker-incremental.json
const fs = require('fs');
const file = process.argv[2];
if (!file) throw new Error('usage: node scripts/stryker-retest-survivors.cjs <incremental file>');
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
let dropped = 0;
for (const result of Object.values(report.files)) {
  const kept = result.mutants.filter((m) => m.status !== 'Survived' && m.status !== 'NoCoverage');
  dropped += result.mutants.length - kept.length;
  result.mutants = kept;
}
fs.writeFileSync(file, JSON.stringify(report));
console.log(`${file}: ${dropped} survived or uncovered results deleted; the next run tests those mutants again`);

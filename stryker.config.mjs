// StrykerJS: mutation testing of src/ and machines/. Too slow for CI; run it per area:
//   npm run mutate                                   # everything (long)
//   npm run mutate -- --mutate 'src/bus/**/*.ts'     # one folder
//   STRYKER_ALL_TESTS=1 npm run mutate -- --mutate 'machines/**/*.ts'   # with the model and seed-002 runs
// Results: reports/mutation/index.html; the incremental file (reports/stryker-incremental.json)
// lets a re-run test only mutants whose code or covering tests changed. See docs/TESTING.md.

// Property tests run 1,000 cases by default; during a mutation run each covering test runs
// once per mutant, so use fewer cases unless FC_RUNS says otherwise (Stryker's test runner
// processes inherit this environment).
process.env.FC_RUNS ??= '25';
// The transport fuzz test (test/transport/fuzz.test.ts): 5 rounds of its three batches instead of 45.
process.env.FUZZ_ROUNDS ??= '5';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  // vitest.stryker.config.ts: the suite minus its slowest real-time and model runs (see there).
  vitest: { configFile: 'vitest.stryker.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: ['src/**/*.ts', 'machines/**/*.ts'],
  checkers: [],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};

import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The test set of a mutation run (stryker.config.mjs): the whole suite minus what costs
 * seconds per mutant without guarding src/ beyond what faster tests do — the 1,000-prompt
 * real-time HTTP scenario (seed 002), the machine model runs (test/model), the README check
 * (test/docs: it type-checks the docs with tsc, which in Stryker's sandbox cannot resolve the
 * package by name) and the bench smoke runs (test/bench). Set
 * STRYKER_ALL_TESTS=1 to run everything, e.g. when mutating machines/.
 */
const slow = ['test/scenarios/seed-002.test.ts', 'test/model/**', 'test/docs/**', 'test/bench/**'];

export default mergeConfig(
  base,
  defineConfig({
    test: { exclude: process.env.STRYKER_ALL_TESTS === '1' ? [] : slow },
  }),
);

/**
 * The stream suite's main Interlock case in a loop, for `node --cpu-prof`. Not part of `npm run bench`.
 *
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/streaming-profile.ts 1000 10000
 *   node --import tsx bench/profile-top.ts "$(ls -S /tmp/prof/*.cpuprofile | head -1)" 30
 *
 * Arguments: sessions (default 1,000), window ms (default 10,000). Profiles the bundle of
 * src/ + machines/ that the suite builds (bench/.build/stream/); `BENCH_TARGET=src` profiles
 * src/ through tsx.
 */
import { interlockSimulatedWindow } from './streaming.js';

const n = Number(process.argv[2] ?? 1_000);
const ms = Number(process.argv[3] ?? 10_000);
const r = await interlockSimulatedWindow(n, ms);
process.stderr.write(`${n} sessions, ${ms} ms: ${r.cpu.toFixed(1)} µs/token, delivery ${r.delivery.toFixed(1)}%, lag p99 ${r.lag.toFixed(1)} ms, ${r.tokens} tokens\n`);

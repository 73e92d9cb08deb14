// Checks the built package: 'interlock' and 'interlock/machines' load from dist/ and share
// one runtime (a machine helper from one entry reaches the runtime of the other).
import { createRuntime } from '../dist/src/index.js';
import { workerMachine } from '../dist/machines/index.js';

const rt = createRuntime({ kinds: { w: { machine: workerMachine({ process: async (x) => x * 2 }) } } });
const answer = await Promise.race([rt.ask('w/1', { type: 'item', item: 21 }), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
await rt.shutdown({ drain: false });
if (answer !== 42) {
  console.error(`dist smoke test failed: expected 42, got ${String(answer)}`);
  process.exit(1);
}
console.log('dist smoke test: ok');

/**
 * The local OpenAI-style SSE server of the stream suite, in its own process so its CPU
 * time is not counted in the client's `process.cpuUsage()`: test/fixtures/upstream.ts on
 * 127.0.0.1, port 0, behaviour 'normal'. Started by bench/streaming.ts with
 * `fork(this, [tokens, delayMs])`; sends `{ url }` over IPC when listening and closes when
 * its parent disconnects.
 */
import { startUpstream } from '../test/fixtures/upstream.js';

const tokens = Number(process.argv[2] ?? 200);
const delayMs = Number(process.argv[3] ?? 10);
const upstream = await startUpstream({ behaviour: 'normal', tokens, delayMs });
process.send?.({ url: upstream.url });
process.on('disconnect', () => {
  void upstream.close().then(() => process.exit(0));
});

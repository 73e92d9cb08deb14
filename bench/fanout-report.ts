/** Section 9 of docs/BENCHMARKS.md (the fan-out suite, issue 10), with its summary verdicts. */
import { int, type Row, type SuiteResult } from './harness.js';
import { find, num, ratio, sideAndRows, verdict, x2, type Verdict } from './report.js';
import { CHUNK, DELIVERIES, fanoutId, MODES, RESUME_ID, RESUME_MISSED, SUBSCRIBERS } from './fanout.js';

export const FANOUT_GOALS = { perRecordVsRaw: 0.7, batchedTo10: 1_000_000, resumeMs: 50 };

const range = (r: Row | undefined) => (r && r.n ? `${num(r.median, r.unit)} (${num(r.min, r.unit)}–${num(r.max, r.unit)})${r.error ? ' **FAILED**' : ''}` : r?.error ? '**FAILED**' : '—');

export function fanoutSection(suite: SuiteResult | undefined): { verdicts: Verdict[]; lines: string[] } {
  if (!suite) return { verdicts: [{ target: 'fan-out over the WebSocket (issue 10)', measured: 'the fanout suite did not run', ok: undefined }], lines: [] };
  const rows = suite.rows;
  const G = FANOUT_GOALS;
  const div = (a: number, b: number) => a / b;
  const [raw, one, batched] = MODES;
  const sizes = SUBSCRIBERS.filter((n) => find(rows, `${fanoutId(n)}/${raw}`));
  const side = [
    '| subscribers | raw ws, records/s | Interlock, one frame per record | Interlock / raw | Interlock, batched frames | batched / raw | server CPU per delivery, raw / one / batched (µs) |',
    '|---:|---:|---:|---|---:|---|---|',
  ];
  const verdicts: Verdict[] = [];
  const perRecord: string[] = [];
  let perRecordOk: boolean | undefined = sizes.length ? true : undefined;
  for (const n of sizes) {
    const id = fanoutId(n);
    const [r, o, b] = [raw, one, batched].map((m) => find(rows, `${id}/${m}`, 'rps'));
    const cpu = [raw, one, batched].map((m) => num(find(rows, `${id}/${m}`, 'cpu')?.median ?? NaN, 'µs')).join(' / ');
    const ro = ratio(o, r, div);
    side.push(`| ${int(n)} | ${range(r)} | ${range(o)} | ${x2(ro)} | ${range(b)} | ${x2(ratio(b, r, div))} | ${cpu} |`);
    perRecord.push(`${int(n)}: ${ro ? `${ro.value.toFixed(2)}×` : 'n/a'}`);
    if (!ro) perRecordOk = undefined;
    else if (perRecordOk !== undefined) perRecordOk &&= ro.value >= G.perRecordVsRaw;
  }
  verdicts.push({ target: `fan-out, one frame per record: ≥ ${G.perRecordVsRaw * 100}% of a raw ws broadcast's records/s, at every subscriber count`, measured: `Interlock / raw by subscribers: ${perRecord.join(', ')}`, ok: perRecordOk });
  const b10 = find(rows, `${fanoutId(10)}/${batched}`, 'rps');
  verdicts.push({
    target: `fan-out, batched frames: ≥ ${int(G.batchedTo10)} records/s delivered to 10 subscribers`,
    measured: b10 && b10.n ? `${num(b10.median, 'records/s')} records/s (${num(b10.min, 'records/s')}–${num(b10.max, 'records/s')})` : 'n/a',
    ok: b10 && b10.n && !b10.error ? b10.median >= G.batchedTo10 : undefined,
  });
  const resume = ['one frame per record', 'batched frames'].map((m) => find(rows, `${RESUME_ID}/${m}`, 'ms'));
  const worst = resume.every((r) => r && r.n && !r.error) ? Math.max(...resume.map((r) => r!.median)) : NaN;
  verdicts.push({
    target: `resume of ${int(RESUME_MISSED)} missed records < ${G.resumeMs} ms`,
    measured: `one frame per record ${range(resume[0])} ms, batched ${range(resume[1])} ms`,
    ok: Number.isFinite(worst) ? worst < G.resumeMs : undefined,
  });

  const lines = [
    '## 9. fan-out over the WebSocket (issue 10)',
    '',
    `One process serves both sides; the subscribers are N WebSocket connections in one separate client process (bench/fanout-clients.ts), which counts messages without parsing them, so its CPU is not the server's. Records are \`emitted\` records of one actor produced on the runtime's data plane (a task's \`emit\`: no transition per record), each a \`next\` message of ~200 B; every repetition delivers ${int(DELIVERIES)} records in total (records = ${int(DELIVERIES)} / N).`,
    '',
    "- **Interlock**: `attachWebSocket` (src/transport/) on a node:http server; every client speaks interlock.v1 and subscribes to the actor's address. *One frame per record*: clients without batching. *Batched frames*: clients that sent `connection_init { batch: true }`, so the records queued in one event-loop turn go out as one array frame (up to 64 KiB). Each run also publishes the turn's own records (mailbox, task, snapshot), which are delivered and counted too.",
    '- **raw ws**: a `WebSocketServer` (ws, `perMessageDeflate: false`) whose broadcast `JSON.stringify`s the same `next` message once and `ws.send`s it to every client, one frame per message.',
    `- Both producers are paced alike, as a server must be: after every ${CHUNK} records they wait (a macrotask at a time) while any client socket holds more than 1 MiB unwritten. **records/s** = deliveries / (first record produced → the client process has counted all of them); **server CPU** = \`process.cpuUsage()\` of the server process over that span / deliveries.`,
    `- **Resume**: a client subscribes (its first record is its resume point), goes away, the actor publishes ${int(RESUME_MISSED)}+ records, and a new connection subscribes with \`since\`; the figure is the time from sending that \`subscribe\` to holding the first ${int(RESUME_MISSED)} missed records (checked: in order, gapless, no \`recovered: false\`).`,
    '- Measures src/ through tsx, like the gateway suite (the transport is not part of the index bundle). Run only this suite: `BENCH_TARGET=src node --expose-gc --import tsx bench/child.ts fanout` (JSON to stdout); `BENCH_QUICK=1` for a smoke run with tiny sizes and 1 repetition (numbers meaningless; test/bench/fanout-suite.smoke.test.ts runs it).',
    ...sideAndRows(side, rows),
  ];
  return { verdicts, lines };
}

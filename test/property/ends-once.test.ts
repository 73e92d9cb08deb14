import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isInterlockError, type ErrorCode } from '../../src/index.js';
import { describeRecords } from '../helpers/bus.js';
import { describeOp, fcParams, propertyTimeout, runScenario, scenarioArb, type AskOutcome, type Run, type StreamOutcome } from '../helpers/scenario.js';

/**
 * Property 3 — every envelope ends exactly once.
 *
 * "Nothing is dropped silently: each envelope is delivered, or rejected with a coded
 * error" (DESIGN.md). Two views of the same promise:
 * - the caller's: every `ask` settles, with its own correlated answer (`{ n }` of its
 *   request) or an InterlockError whose code is in the catalogue and fits what happened
 *   to it; none is still pending once the scheduler is drained and the clock has no
 *   timer left (before shutdown: work that can finish must finish), and none after
 *   `shutdown({ drain: false })`. Every `stream` ends once the same way (completes, or
 *   errors with a fitting code; nothing after an unsubscribe) and carries only its own
 *   request's data-plane chunks;
 * - the bus's: each enqueued envelope has exactly one terminal record — an ask
 *   `mailbox.rejected` or `turn.replied`; a tell (or a runtime cancel) `mailbox.rejected`,
 *   `mailbox.delivered` or `mailbox.dropped` — so an observer of `events$` can account
 *   for every envelope.
 */
describe('property: every envelope ends exactly once', () => {
  it('settles every ask once, with its own answer or a catalogued code, and leaves none pending', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb(), async (s, scenario) => {
        const run = await runScenario(s, scenario, { idleAfterMs: 40 });
        expect(run.uncoded).toEqual([]);
        expect(run.quiescent, 'timers kept re-arming: some actor never became quiet').toBe(true);
        expect(run.pendingAtQuiescence.map(describeAsk), 'asks pending after the scheduler drained and the clock ran out').toEqual([]);
        expect(run.streamsPendingAtQuiescence.map(describeStream), 'streams still open after the scheduler drained and the clock ran out').toEqual([]);
        const received = new Set(run.log.receipts.map((r) => r.n));
        for (const ask of run.asks) checkAsk(ask, received.has(ask.n));
        for (const stream of run.streams) checkStream(stream, received.has(stream.n));
        checkEmitted(run);
      }),
      fcParams(),
    );
  }, propertyTimeout());

  it('gives every enqueued envelope exactly one terminal record on the bus', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb(), async (s, scenario) => {
        const run = await runScenario(s, scenario, { idleAfterMs: 40 });
        checkTerminalRecords(run);
      }),
      fcParams(),
    );
  }, propertyTimeout());
});

const CODES = new Set(Object.keys(ErrorCodes));

function describeAsk(a: AskOutcome): string {
  return `n=${a.n} ${describeOp(a.op)} to ${a.address}${a.aborted ? ' (aborted)' : ''}`;
}

/**
 * The codes an ask may end with, given its request, what the caller did, and whether the
 * machine took it (a crash answers only the turns it interrupted; the queue is kept for
 * the restart, or rejected with ACTOR_FAILED when the budget is spent).
 */
function allowedCodes(a: AskOutcome, received: boolean): Set<ErrorCode> {
  const allowed = new Set<ErrorCode>(['INTERLOCK_ACTOR_STOPPED', 'INTERLOCK_SHUTTING_DOWN']);
  allowed.add(received ? 'INTERLOCK_ACTOR_CRASHED' : 'INTERLOCK_ACTOR_FAILED');
  if (a.aborted) allowed.add('INTERLOCK_CANCELLED');
  if (a.op.timeoutMs !== undefined) allowed.add('INTERLOCK_DEADLINE_EXCEEDED');
  if (a.op.mode === 'fail') allowed.add('INTERLOCK_TURN_FAILED');
  return allowed;
}

function checkAsk(a: AskOutcome, received: boolean): void {
  const what = describeAsk(a);
  expect(a.settlements, `${what} settled ${a.settlements} times`).toBe(1);
  if (a.status === 'resolved') {
    expect(a.op.mode, `${what} resolved, but its mode never answers`).toBe('ok');
    expect(a.value, `${what} resolved with another request's answer`).toEqual({ n: a.n });
    return;
  }
  const err = a.error;
  expect(isInterlockError(err), `${what} rejected with a non-Interlock error: ${String(err)}`).toBe(true);
  const code = (err as { code: ErrorCode }).code;
  expect(CODES.has(code), `${what}: unknown code ${code}`).toBe(true);
  expect([...allowedCodes(a, received)], `${what} (${received ? '' : 'not '}taken by the machine) rejected with ${code}`).toContain(code);
  if (code === 'INTERLOCK_TURN_FAILED') {
    expect(String((err as { cause?: unknown }).cause), `${what} failed with another request's error`).toBe(`probe failed n=${a.n}`);
  }
}

function describeStream(st: StreamOutcome): string {
  return `n=${st.n} ${describeOp(st.op)} to ${st.address}${st.aborted ? ' (unsubscribed)' : ''}`;
}

/**
 * A stream ends once (complete or coded error; nothing after an unsubscribe), carries only
 * its own request's chunks, in order, and — when the turn completed normally — both of
 * them (the data plane reaches a live turn's stream).
 */
function checkStream(st: StreamOutcome, received: boolean): void {
  const what = describeStream(st);
  const ends = st.completions + st.errors.length;
  if (st.aborted) expect(ends, `${what} ended ${ends} times`).toBeLessThanOrEqual(1);
  else expect(ends, `${what} ended ${ends} times`).toBe(1);
  const foreign = st.chunks.filter((c) => c.type !== 'chunk' || c.n !== st.n);
  expect(foreign, `${what} received events of another request`).toEqual([]);
  const parts = st.chunks.map((c) => c.part);
  expect(parts, `${what} chunks out of order or repeated`).toEqual([0, 1].slice(0, parts.length));
  if (st.completions === 1) {
    expect(st.op.mode, `${what} completed, but its mode never answers`).toBe('ok');
    expect(parts, `${what} completed without all its chunks`).toEqual([0, 1]);
  }
  for (const err of st.errors) {
    expect(isInterlockError(err), `${what} errored with a non-Interlock error: ${String(err)}`).toBe(true);
    const code = (err as { code: ErrorCode }).code;
    const allowed = new Set<ErrorCode>(['INTERLOCK_ACTOR_STOPPED', 'INTERLOCK_SHUTTING_DOWN', received ? 'INTERLOCK_ACTOR_CRASHED' : 'INTERLOCK_ACTOR_FAILED']);
    if (st.op.timeoutMs !== undefined) allowed.add('INTERLOCK_DEADLINE_EXCEEDED');
    if (st.op.mode === 'fail') allowed.add('INTERLOCK_TURN_FAILED');
    expect([...allowed], `${what} errored with ${code}`).toContain(code);
  }
}

/** Every data-plane record on the bus names the request whose task emitted it. */
function checkEmitted(run: Run): void {
  for (const r of run.bus.of('emitted')) {
    const d = r.data as { event: { type: string; n?: number }; requestId?: string };
    if (d.requestId === undefined) continue;
    const info = run.bus.envelopes.get(d.requestId);
    expect(info?.n, `chunk of n=${String(d.event.n)} published for envelope ${d.requestId}`).toBe(d.event.n);
  }
}

function checkTerminalRecords(run: Run): void {
  const { bus } = run;
  const terminal = new Map<string, string[]>();
  for (const r of bus.records) {
    const id = (r.data as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') continue;
    const info = bus.envelopes.get(id);
    if (!info) continue;
    const isTerminal =
      r.type === 'mailbox.rejected' ||
      (info.origin === 'ask' ? r.type === 'turn.replied' : r.type === 'mailbox.delivered' || r.type === 'mailbox.dropped');
    if (!isTerminal) continue;
    if (!terminal.has(id)) terminal.set(id, []);
    terminal.get(id)!.push(r.type);
  }
  const wrong: string[] = [];
  for (const info of bus.envelopes.values()) {
    const ends = terminal.get(info.id) ?? [];
    if (ends.length !== 1) {
      wrong.push(`${info.origin} n=${info.n} (${info.type}, id ${info.id}) at ${info.address}: terminal records [${ends.join(', ')}]`);
    }
  }
  expect(wrong, `envelopes without exactly one terminal record; bus:\n${describeRecords(bus.records)}`).toEqual([]);
}

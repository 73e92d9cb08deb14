/**
 * The inspector page: wires the token, the server's HTTP routes, the `interlock.v1`
 * WebSocket (through interlock/client) and the views. Everything it loads or asks for is
 * on the server that served it.
 */
import { Subscription } from 'rxjs';
import { connect, type InterlockClient } from '../../src/client/browser.js';
import { api as createApi, HttpError, serverBase } from './api.js';
import type { ActorInfo } from './actorTable.js';
import type { Rec } from './records.js';
import { tokenStore } from './token.js';
import { ActorListView } from './views/actorListView.js';
import { ActorView } from './views/actorView.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const token = tokenStore(window.localStorage, window.location, window.history);
const base = serverBase(window.location.href);
const api = createApi(base, () => token.get());
const conn = $('conn');
let client: InterlockClient | undefined;
let actors: ActorInfo[] = [];

const actorView = new ActorView(
  {
    title: $('actor-title'),
    meta: $('actor-meta'),
    chart: $('chart'),
    scrubber: $<HTMLInputElement>('scrubber'),
    scrubAt: $<HTMLOutputElement>('scrub-at'),
    live: $<HTMLButtonElement>('live'),
    mailbox: ($<HTMLTableElement>('mailbox')).tBodies[0]!,
    context: $('context'),
    timeline: $('timeline'),
  },
  (kind) => api.machine(kind),
);

let selection: { address: string; sub: Subscription } | undefined;
const list = new ActorListView(
  { list: $('actor-list'), kind: $<HTMLSelectElement>('kind-filter'), text: $<HTMLInputElement>('text-filter'), count: $('actor-count') },
  (address) => void select(address),
);

function status(text: string, ok: boolean | undefined): void {
  conn.textContent = text;
  conn.className = `conn${ok === true ? ' ok' : ok === false ? ' bad' : ''}`;
}

function wsUrl(): string {
  const u = new URL('ws', base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

function openClient(): InterlockClient {
  client?.close().catch(() => undefined); // closing an old client cannot fail in a way the page can act on
  const t = token.get();
  client = connect(wsUrl(), {
    ...(t === undefined ? {} : { token: t, tokenInQuery: true }),
    lazy: false,
    on: {
      connected: () => status('connected', true),
      closed: (info) => {
        if (info.httpStatus === 401 || info.code === 4401 || info.code === 4403) askToken();
        else status(info.retryable ? `reconnecting (closed ${info.code})` : `disconnected (${info.code} ${info.reason})`, false);
      },
    },
  });
  return client;
}

async function select(address: string): Promise<void> {
  selection?.sub.unsubscribe();
  const row = actors.find((a) => a.address === address);
  const kind = row?.kind ?? address.slice(0, address.indexOf('/'));
  const c = client ?? openClient();
  const sub = new Subscription();
  selection = { address, sub };
  // Live: the current snapshot first, then every record, resumed without gaps after a
  // reconnect (the client resubscribes after the last record it delivered).
  let backfilled = false;
  sub.add(
    c.subscribe(address).subscribe({
      next: (rec) => {
        actorView.add([rec as Rec]);
        if (backfilled) return;
        backfilled = true;
        sub.add(backfill(c, rec as Rec));
        api.mailbox(address).then(
          (entries) => selection?.address === address && actorView.setMailbox(entries),
          () => undefined, // passivated or gone: the mailbox shows what the records say
        );
      },
      error: (err: { code?: string; message?: string }) => status(`subscription ended: ${err.code ?? ''} ${err.message ?? ''}`, false),
    }),
  );
  history.replaceState(history.state, '', `${location.pathname}?actor=${encodeURIComponent(address)}`);
  await actorView.select(address, kind);
}

/**
 * The history before the selection: what the server still buffers of this activation,
 * asked for from its first record (`since` seq 0). When the buffer no longer reaches back
 * that far the server answers with the snapshot the page already has, and history starts
 * at the selection. Ends once it has caught up with the live subscription.
 */
function backfill(c: InterlockClient, first: Rec): Subscription {
  if (first.epoch === 0 || first.seq <= 1) return new Subscription(); // not live, or nothing before it
  const sub: Subscription = c.subscribe(first.address, { since: { epoch: first.epoch, seq: 0 } }).subscribe({
    next: (rec) => {
      actorView.add([rec as Rec]);
      if (rec.recovered === false || rec.epoch !== first.epoch || rec.seq >= first.seq) queueMicrotask(() => sub.unsubscribe());
    },
    error: () => undefined, // the live subscription reports problems
  });
  return sub;
}

let polling = 0;
async function poll(): Promise<void> {
  const started = performance.now();
  try {
    actors = await api.actors();
    list.update(actors);
    if (!client) {
      // The WebSocket only once the token is known good: a browser cannot tell a refused
      // upgrade (401) from a network error, and the client would keep retrying it.
      openClient();
      const wanted = new URL(location.href).searchParams.get('actor');
      if (wanted) list.select(wanted);
    }
    status('connected', true);
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) return askToken();
    status(`actor list: ${(err as Error).message}`, false);
  }
  // Sampled: at most once a second, and never more than a fifth of the time spent fetching.
  const took = performance.now() - started;
  polling = window.setTimeout(() => void poll(), Math.max(1_000, 5 * took));
}

function askToken(): void {
  window.clearTimeout(polling);
  client?.close().catch(() => undefined); // closing an old client cannot fail in a way the page can act on
  client = undefined;
  status('the server needs its token', false);
  const form = $<HTMLFormElement>('token-form');
  form.hidden = false;
  $<HTMLInputElement>('token-input').focus();
}

$<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token.set($<HTMLInputElement>('token-input').value);
  $<HTMLFormElement>('token-form').hidden = true;
  $<HTMLButtonElement>('forget-token').hidden = false;
  start();
});
$<HTMLButtonElement>('forget-token').addEventListener('click', () => {
  token.forget();
  window.location.reload();
});

// ---- controls

const result = $('control-result');
function show(text: string, ok: boolean): void {
  result.textContent = text;
  result.className = `result${ok ? '' : ' bad'}`;
}
async function act(what: string, run: (address: string) => Promise<unknown>): Promise<void> {
  const address = selection?.address;
  if (!address) return show('select an actor first', false);
  try {
    const out = await run(address);
    show(`${what}: ${out === undefined ? 'ok' : JSON.stringify(out)}`, true);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    show(`${what}: ${e.code ?? 'error'} ${e.message ?? ''}`, false);
  }
}
$<HTMLFormElement>('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  let event: { type: string };
  try {
    event = JSON.parse($<HTMLTextAreaElement>('send-event').value) as { type: string };
  } catch (err) {
    return show(`not JSON: ${(err as Error).message}`, false);
  }
  void act(`send ${event.type}`, (address) => (client ?? openClient()).send(address, event as never));
});
$<HTMLButtonElement>('cancel-turn').addEventListener('click', () => void act('cancel', (a) => api.cancel(a)));
$<HTMLButtonElement>('revive').addEventListener('click', () => void act('revive', (a) => api.revive(a)));

// ---- start

function start(): void {
  void poll();
}
$<HTMLButtonElement>('forget-token').hidden = token.get() === undefined;
start();

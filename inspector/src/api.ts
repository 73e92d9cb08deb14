/**
 * The server's HTTP routes the page uses (docs/inspector.md), relative to the page so the
 * gateway may be mounted under a prefix: the live actor list, each kind's machine, an
 * actor's mailbox, and the cancel and revive actions. Every request carries the bearer
 * token; a 401 asks the page for one.
 */
import type { ActorInfo } from './actorTable.js';
import { laneName, type MailboxEntry } from './records.js';
import type { StateNodeJSON } from './statechart/machineGraph.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  actors(): Promise<ActorInfo[]>;
  machine(kind: string): Promise<StateNodeJSON>;
  mailbox(address: string): Promise<MailboxEntry[]>;
  cancel(address: string): Promise<unknown>;
  revive(address: string): Promise<unknown>;
}

/** The server's base URL (where `/v1` lives), from the page's own `…/inspector/`. */
export function serverBase(pageUrl: string): URL {
  return new URL('../', pageUrl);
}

export function api(base: URL, token: () => string | undefined): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const t = token();
    const res = await fetch(new URL(path, base), {
      method,
      headers: { ...(t === undefined ? {} : { authorization: `Bearer ${t}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) throw new HttpError(res.status, json.error?.code ?? `HTTP_${res.status}`, json.error?.message ?? res.statusText);
    return json as T;
  };
  const at = (address: string) => address.split('/').map(encodeURIComponent).join('/');
  return {
    async actors() {
      const out: ActorInfo[] = [];
      let after: string | null = null;
      // Paged by address; a page of 1,000 keeps each answer small.
      do {
        const page: { data: ActorInfo[]; next_after: string | null } = await call('GET', `v1/actors?limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
        out.push(...page.data);
        after = page.next_after;
      } while (after !== null);
      return out;
    },
    machine: (kind) => call<{ root: StateNodeJSON }>('GET', `v1/kinds/${encodeURIComponent(kind)}/machine`).then((g) => g.root),
    async mailbox(address) {
      const v = await call<{ queued: RawEntry[]; postponed: RawEntry[] }>('GET', `v1/actors/${at(address)}/mailbox`);
      return [...v.queued.map((e) => entry(e, false)), ...v.postponed.map((e) => entry(e, true))];
    },
    cancel: (address) => call('POST', `v1/actors/${at(address)}/cancel`, {}),
    revive: (address) => call('POST', `v1/actors/${at(address)}/revive`, {}),
  };
}

interface RawEntry {
  id: string;
  event: { type: string };
  lane: string | number;
  enqueuedAt: number;
  deadline: number | null;
}

function entry(e: RawEntry, postponed: boolean): MailboxEntry {
  return { id: e.id, type: e.event.type, lane: laneName(e.lane), enqueuedAt: e.enqueuedAt, deadline: e.deadline ?? undefined, postponed };
}

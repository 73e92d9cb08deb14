/**
 * The benchmark suites by name. Each runs in its own child process (see `child.ts`), so
 * one suite's garbage, heap growth and JIT state do not leak into the next.
 */
import { askGroups, checkSerialized, IMPLS } from './ask.js';
import { backlogGroups } from './backlog.js';
import { fanoutGroups } from './fanout.js';
import type { Case } from './harness.js';
import { gatewayGroups } from './gateway.js';
import { heapGroups } from './heap.js';
import { inspectGroups } from './inspect.js';
import { inspectorGroups } from './inspector.js';
import { streamGroups, streamPrepare } from './streaming.js';
import { tellGroups } from './tell.js';

export interface Suite {
  /** Untimed checks run before the groups; returns notes for the report. */
  prepare?(): Promise<string[]>;
  groups(): Case[][];
}

export const SUITES: Record<string, Suite> = {
  tell: { groups: tellGroups },
  ask: {
    async prepare() {
      const notes: string[] = [];
      for (const impl of IMPLS) {
        const problem = await checkSerialized(impl);
        notes.push(
          `serialization check, ${impl.name} (${impl.open ? 'open: 8 keys x 25 asks at once' : 'closed: 8 keys x 25, one outstanding'}, ` +
            `work unit yields a macrotask): ${problem === '' ? 'ok: at most 1 work unit per key at a time, FIFO start order, every reply correct' : `FAILED: ${problem}`}`,
        );
      }
      return notes;
    },
    groups: () => askGroups(IMPLS),
  },
  backlog: { groups: backlogGroups },
  heap: { groups: heapGroups },
  gateway: { groups: gatewayGroups },
  stream: { prepare: streamPrepare, groups: streamGroups },
  inspect: { groups: inspectGroups },
  inspector: { groups: inspectorGroups },
  fanout: { groups: fanoutGroups },
};

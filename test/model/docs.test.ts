import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, documentedMachines, render } from '../../scripts/statecharts.js';

describe('docs/machines.md', () => {
  it('has the statecharts and transition tables generated from the current machine definitions', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    const fresh = render(doc);
    // On failure: run `node --import tsx scripts/statecharts.ts` and commit docs/machines.md.
    expect(doc, 'docs/machines.md is out of date: run node --import tsx scripts/statecharts.ts').toBe(fresh);
  });

  it('documents every bundled machine, state and event type', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    for (const [name, machine] of Object.entries(documentedMachines())) {
      expect(doc).toContain(`## ${name}`);
      const walk = (n: { key: string; states: Record<string, unknown>; transitions: Map<string, unknown> }): void => {
        for (const c of Object.values(n.states) as (typeof n)[]) {
          expect(doc, `${name}: state ${c.key}`).toMatch(new RegExp('[`.]' + c.key + '`'));
          for (const type of c.transitions.keys()) if (!type.startsWith('xstate.')) expect(doc, `${name}: event ${type}`).toContain(type);
          walk(c);
        }
      };
      walk(machine.root as never);
    }
  });
});

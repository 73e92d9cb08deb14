/**
 * Loading the optional peer `@statelyai/inspect`: a package that cannot be found (by the
 * ESM resolver or by a CommonJS `require` inside it) is INTERLOCK_MISSING_PEER naming the
 * feature and the install command; a package that is there but fails as it loads is its
 * own error, not a missing peer.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadStately } from '../../src/inspect/stately.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loading @statelyai/inspect', () => {
  it('answers INTERLOCK_MISSING_PEER naming the feature and the install command when the package is not installed', async () => {
    const err = await loadStately('@statelyai/not-installed-here').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'INTERLOCK_MISSING_PEER', details: { package: '@statelyai/not-installed-here' } });
    expect((err as Error).message).toBe(
      "the Stately bridge (--stately) needs the optional peer dependency '@statelyai/not-installed-here', which is not installed. Run `npm install @statelyai/not-installed-here@0.7`.",
    );
  });

  it('answers INTERLOCK_MISSING_PEER when a CommonJS require inside the package finds nothing (MODULE_NOT_FOUND)', async () => {
    const path = fixture('requiresMissing.cjs');
    await expect(loadStately(path)).rejects.toMatchObject({ code: 'INTERLOCK_MISSING_PEER', message: expect.stringContaining(`Run \`npm install ${path}@0.7\``) });
  });

  it('passes on the error of a package that is installed but fails as it loads', async () => {
    await expect(loadStately(fixture('throwsOnImport.mjs'))).rejects.toThrow(/^fixture: this module fails as it loads$/);
  });
});

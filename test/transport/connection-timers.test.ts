/**
 * The connection's timers on the server's clock: the init timeout and the heartbeat are
 * guard timers (on the system clock they are unref'd, so an idle connection's timers never
 * hold a finished process open on their own), one at a time, and none is left once the
 * connection ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/index.js';
import { closeAllServers, RawClient, startServer, until } from './helpers.js';

afterEach(closeAllServers);

const timers = (clock: SimulatedClock) => ({ guard: clock.pending('guard'), work: clock.pending('work') });

describe('the timers of one connection', () => {
  it('are guard timers: the init timeout, then the heartbeat, re-armed after each ping; none once it ends', async () => {
    const clock = new SimulatedClock();
    const s = await startServer({ clock, heartbeatMs: 1_000 });
    const c = await RawClient.connect(s, { init: false });
    expect(timers(clock)).toEqual({ guard: 1, work: 0 });
    c.send({ type: 'connection_init' });
    await c.until((m) => m.type === 'connection_ack');
    // The init timeout is cleared; the heartbeat is armed.
    expect(timers(clock)).toEqual({ guard: 1, work: 0 });
    const pinged = new Promise<void>((resolve) => c.ws.once('ping', () => resolve()));
    clock.advance(1_000);
    await pinged;
    expect(timers(clock)).toEqual({ guard: 1, work: 0 });
    c.ws.close();
    await until(() => s.transport.size === 0);
    expect(timers(clock)).toEqual({ guard: 0, work: 0 });
  });
});

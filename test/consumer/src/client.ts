// 'interlock/client' as a Node app gets it: typed events from a machine, coded errors, and
// the lazily loaded `ws` resolving from the installed package. Nothing listens on port 1,
// so with no retries allowed the subscription fails with INTERLOCK_CONNECTION_LOST.
import { firstValueFrom } from 'rxjs';
import { setup } from 'xstate';
import { connect, isInterlockError, type ClientRecord } from 'interlock/client';

const chat = setup({ types: {} as { events: { type: 'chat'; text: string } | { type: '@done' } } }).createMachine({});

export async function checkClient(): Promise<string[]> {
  const problems: string[] = [];
  const client = connect('ws://127.0.0.1:1/ws', { backoff: { attempts: 0 } });
  const actor = client.actor<typeof chat>('chat/1');
  // @ts-expect-error an internal event does not compile
  const forged = () => actor.send({ type: '@done' });
  void forged;
  const err = await firstValueFrom(actor.subscribe()).then(
    (r: ClientRecord) => r,
    (e: unknown) => e,
  );
  if (!isInterlockError(err, 'INTERLOCK_CONNECTION_LOST')) problems.push(`client: expected INTERLOCK_CONNECTION_LOST, got ${String(err)}`);
  await client.close();
  return problems;
}

/**
 * The `interlock` command. `interlock serve …` runs the gateway until SIGINT/SIGTERM,
 * then refuses new work, drains within --drain-ms and exits 0.
 */
import { parseServeArgs, serve, USAGE, UsageError } from './serve.js';

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (command !== 'serve') {
    process.stderr.write(`interlock: unknown command '${command}'\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let served: Awaited<ReturnType<typeof serve>>;
  let drainMs: number;
  try {
    const config = parseServeArgs(rest, process.env);
    drainMs = config.drainMs;
    served = await serve(config, (line) => process.stderr.write(`${line}\n`));
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`interlock serve: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`interlock serve: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    signalled = true;
    process.stderr.write(`interlock serve: ${signal}: refusing new work, draining (up to ${drainMs} ms)\n`);
    // A safety net past the drain deadline: the runtime's deadline should end everything first.
    const hard = setTimeout(() => {
      process.stderr.write('interlock serve: drain did not finish in time; closing connections\n');
      served.app.server.closeAllConnections();
      process.exit(1);
    }, drainMs + 5_000);
    hard.unref();
    served.shutdown().then(
      () => {
        clearTimeout(hard);
        process.stderr.write('interlock serve: drained, bye\n');
        process.exit(0);
      },
      (err: unknown) => {
        clearTimeout(hard);
        process.stderr.write(`interlock serve: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) await main(process.argv.slice(2));

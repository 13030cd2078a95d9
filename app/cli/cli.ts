/**
 * The `halfmoon` command line. Each command lives in its own module under `sim/commands/` and is
 * listed in `sim/commands/index.ts`; this file only dispatches, prints help and maps errors to
 * exit codes: 0 every invariant held, 1 a violation was found, 2 bad input (one line, no stack).
 */
import { parseArgs } from 'node:util';
import { isInputError } from '../../src/core/assert.ts';
import { COMMANDS } from './commands/index.ts';
import { preloadPlugins } from '../plugins.ts';
import { startProgress } from './progress.ts';
import type { Command, Io } from './commands/types.ts';

export const VERSION = '0.1.0';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `halfmoon ${VERSION}: Halfmoon and Boki as pure state machines, simulated, model-checked and run for real`,
    '',
    'usage: halfmoon <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'halfmoon <command> --help' for a command's options.",
    'Every command takes --plugin <file.ts> (repeatable): a module registering systems, protocols or',
    "workloads through 'halfmoon' (docs/api.md); a scenario or cluster file may list plugins: [...].",
    'Exit codes: 0 all invariants held, 1 a violation was found, 2 bad input.',
  ].join('\n');
}

export function defaultIo(): Io {
  return {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    progress: process.stderr.isTTY ? (s) => process.stderr.write('\r\x1b[2K' + s) : null,
    startProgress: (label, unit, json) => startProgress(label, unit, json),
  };
}

export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(VERSION);
    return 0;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`halfmoon: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  try {
    // --plugin <file> (any command) and the plugins a --scenario or --config file lists.
    const args = await preloadPlugins(rest);
    const parsed = parseArgs({
      args,
      options: cmd.options,
      allowPositionals: (cmd.positionals ?? 0) > 0,
      strict: true,
    });
    if (parsed.positionals.length > (cmd.positionals ?? 0)) {
      io.err(`halfmoon ${cmd.name}: unexpected argument '${parsed.positionals[cmd.positionals ?? 0]}'`);
      return 2;
    }
    return await cmd.run(parsed.values as Record<string, unknown>, parsed.positionals, io);
  } catch (e) {
    if (isInputError(e)) {
      io.err(`halfmoon ${cmd.name}: ${e.message}`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`halfmoon ${cmd.name}: ${(e as Error).message.split('\n')[0]}`);
      return 2;
    }
    throw e;
  }
}

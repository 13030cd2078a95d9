#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run directly, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
// A reader that leaves early (`halfmoon sweep ... | head`) closes the pipe: what it did not read
// is not wanted, so the run goes on with its output dropped and still exits with its verdict,
// instead of dying on an unhandled EPIPE with a stack trace. Any other stream error stays fatal.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
const { main } = await import('../app/cli/cli.ts');
process.exitCode = await main(process.argv.slice(2));

/**
 * Plugin loading for every command (app/cli/cli.ts calls `preloadPlugins` before dispatching):
 * `--plugin <file>` (repeatable, anywhere on the command line) and the `plugins:` lists of the
 * scenario file (`--scenario x.yaml`) and cluster config (`--config c.yaml`) the command names,
 * each relative to its file. The loading itself is src/scenario/plugins.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../src/core/assert.ts';
import { loadPlugins, PLUGINS_MAX } from '../src/scenario/plugins.ts';

/** Splits `--plugin f` / `--plugin=f` out of a command line. */
export function extractPlugins(args: readonly string[]): { plugins: string[]; rest: string[] } {
  const plugins: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (a === '--plugin') {
      const f = args[i + 1];
      if (f === undefined || f.startsWith('--')) throw new InputError('--plugin: expected a file');
      plugins.push(f);
      i++;
    } else if (a.startsWith('--plugin=')) {
      const f = a.slice('--plugin='.length);
      if (f === '') throw new InputError('--plugin: expected a file');
      plugins.push(f);
    } else rest.push(a);
  }
  if (plugins.length > PLUGINS_MAX) throw new InputError(`--plugin: at most ${PLUGINS_MAX} plugins`);
  return { plugins, rest };
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/** The `plugins:` list of a YAML or JSON file, absolute; [] when the file names none. */
export function filePlugins(file: string): string[] {
  if (!existsSync(file)) return [];
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch {
    return []; // the command's own loader reports the syntax error
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const list = (doc as { plugins?: unknown }).plugins;
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === '')) throw new InputError(`${file}: plugins: expected a list of module files`);
  const out = (list as string[]).map((p) => resolve(dirname(file), p));
  // A cluster config names its scenario: that file's plugins come along.
  const sc = (doc as { scenario?: unknown }).scenario;
  if (typeof sc === 'string' && (sc.endsWith('.yaml') || sc.endsWith('.yml'))) out.push(...filePlugins(resolve(dirname(file), sc)));
  return out;
}

function isFileArg(s: string | undefined): s is string {
  return s !== undefined && (s.includes('/') || /\.(ya?ml|json)$/.test(s));
}

/** Loads the command line's plugins and those its scenario or config file lists; returns the rest of the line. */
export async function preloadPlugins(args: readonly string[]): Promise<string[]> {
  const { plugins, rest } = extractPlugins(args);
  await loadPlugins(plugins, process.cwd());
  for (const flag of ['--scenario', '--config']) {
    const f = flagValue(rest, flag);
    if (!isFileArg(f)) continue;
    const listed = filePlugins(resolve(f));
    if (listed.length > 0) await loadPlugins(listed, dirname(resolve(f)));
  }
  return rest;
}

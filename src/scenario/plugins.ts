/**
 * Plugins: a user's TypeScript (or JavaScript) modules that register systems, protocols,
 * workloads and variants through the public API (`import { defineSystem } from 'halfmoon'`) when
 * they load. Named by `--plugin <file>` on any command (app/plugins.ts), by a scenario's or a
 * cluster config's `plugins:` list (relative to that file), and handed on to sweep workers and
 * cluster node processes, which load them the same way before they build anything.
 *
 * Inside a plugin, `halfmoon` and `halfmoon/<entry>` always resolve to the copy of halfmoon that
 * is running (a resolve hook maps them through this package's own `exports`), so a plugin
 * registers into the registries the commands read, wherever it sits and whatever its folder has
 * installed.
 *
 * Every failure is an InputError of one line naming the file: missing, threw while loading
 * (syntax errors included), or rejected by a define* call (name clash, malformed definition).
 */
import { existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, isInputError } from '../core/assert.ts';

export const PLUGINS_MAX = 32;

/** This package's root (src/scenario/ is two levels down). */
const ROOT_URL = new URL('../../package.json', import.meta.url).href;

// Plugins are ES modules whatever their folder's package.json says (a fresh \`npm init\` says
// commonjs, and a CommonJS plugin could not require the running ESM halfmoon mid-evaluation):
// the plugin file and the relative imports it makes load as modules.
const HOOK = `
let parent;
const esm = new Set();
export async function initialize(data) { parent = data.parentURL; }
export async function resolve(specifier, context, next) {
  if (specifier === 'halfmoon' || specifier.startsWith('halfmoon/')) return next(specifier, { ...context, parentURL: parent });
  const plugin = specifier.endsWith('?halfmoon-plugin');
  const r = await next(plugin ? specifier.slice(0, -16) : specifier, context);
  const fromPlugin = context.parentURL !== undefined && esm.has(context.parentURL.replace(/[?#].*$/, ''));
  if ((plugin || (fromPlugin && specifier.startsWith('.'))) && r.url.startsWith('file:') && /\\.(ts|js)$/.test(r.url)) {
    esm.add(r.url);
    return { ...r, format: 'module' };
  }
  return r;
}`;

let hooked = false;

function installHook(): void {
  if (hooked) return;
  hooked = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { parentURL: ROOT_URL } });
}

const loaded = new Set<string>();

/** Absolute paths of the plugins, resolved against `base` (a folder), in order, without repeats. */
export function pluginPaths(files: readonly string[], base: string): string[] {
  if (files.length > PLUGINS_MAX) throw new InputError(`plugins: at most ${PLUGINS_MAX}, got ${files.length}`);
  const out: string[] = [];
  for (const f of files) {
    if (typeof f !== 'string' || f === '') throw new InputError('plugin: expected a file name');
    const p = isAbsolute(f) ? f : resolve(base, f);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n').find((l) => l.trim() !== '') ?? m).trim().slice(0, 400);
}

/** Loads each plugin once per process (a second load of the same file is a no-op). */
export async function loadPlugins(files: readonly string[], base: string = process.cwd()): Promise<string[]> {
  const paths = pluginPaths(files, base);
  for (const p of paths) {
    if (loaded.has(p)) continue;
    const shown = files.find((f) => resolve(base, f) === p) ?? p;
    if (!existsSync(p) || !statSync(p).isFile()) throw new InputError(`plugin ${shown}: no such file`);
    if (!/\.(m|c)?(t|j)s$/.test(p)) throw new InputError(`plugin ${shown}: expected a .ts or .js module`);
    installHook();
    try {
      await import(`${pathToFileURL(p).href}?halfmoon-plugin`);
    } catch (e) {
      if (isInputError(e)) throw new InputError(`plugin ${shown}: ${firstLine(e)}`);
      throw new InputError(`plugin ${shown}: threw while loading: ${firstLine(e)}`);
    }
    loaded.add(p);
  }
  return paths;
}

/** The plugins loaded so far, absolute, in load order (handed to sweep workers). */
export function loadedPlugins(): string[] {
  return [...loaded];
}

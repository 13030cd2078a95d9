/**
 * Worker threads load their code from one self-contained CommonJS bundle built with esbuild: it
 * loads in a fraction of the time tsx takes to load the sources module by module. Used by sweeps
 * (sweep-entry.ts) and the parallel explorer (explore/parallel-entry.ts). A bundle is kept in the
 * temporary directory under a key of its sources' paths, sizes and modification times, so later
 * runs reuse it until a source changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * Each module's `import.meta.url` kept as its source file's URL inside the bundle (the scenario
 * directory is found relative to the scenario loader's own file).
 */
const keepImportMetaUrl: Plugin = {
  name: 'keep-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

const bundles = new Map<string, Promise<string | null>>();

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A key for the sources a bundle is built from: every .ts file's path, size and mtime. */
function sourcesKey(): string {
  const h = createHash('sha256');
  const walk = (dir: string, depth: number): void => {
    if (depth > 12) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.ts')) {
        const st = statSync(p);
        h.update(`${p}:${st.size}:${st.mtimeMs}\n`);
      }
    }
  };
  for (const d of ['src', 'sim', 'proofs']) walk(join(ROOT, d), 0);
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(lock)) h.update(`lock:${statSync(lock).mtimeMs}`);
  return h.digest('hex').slice(0, 16);
}

/** The bundle of the worker whose entry module is `entry`, named `name`; null if it cannot be built. */
export function bundleWorker(entry: URL, name: string): Promise<string | null> {
  let p = bundles.get(name);
  if (p === undefined) {
    p = (async () => {
      try {
        const path = join(tmpdir(), `halfmoon-${name}-${sourcesKey()}.cjs`);
        if (existsSync(path)) return path;
        const r = await build({
          entryPoints: [fileURLToPath(entry)],
          bundle: true,
          write: false,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          logLevel: 'silent',
          plugins: [keepImportMetaUrl],
        });
        const text = r.outputFiles[0]?.text;
        if (!text) return null;
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, text);
        renameSync(tmp, path);
        return path;
      } catch {
        return null;
      }
    })();
    bundles.set(name, p);
  }
  return p;
}

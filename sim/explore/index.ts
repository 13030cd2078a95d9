/**
 * The explorer's entry point: one call runs any strategy on any model. See `model.ts` for the
 * interface and property semantics, `search.ts` for exhaustive search, `guided.ts` for walks,
 * `world.ts` for the adapter that turns a system into a model, `registry.ts` for named models.
 */
import { guided } from './guided.ts';
import type { ExploreOptions, ExploreResult, Model, Path } from './model.ts';
import { DEFAULT_OPTIONS } from './model.ts';
import { bfs, dfs } from './search.ts';

export function explore<S, A>(model: Model<S, A>, options: Partial<ExploreOptions> = {}): ExploreResult<S, A> {
  const opts: ExploreOptions = { ...DEFAULT_OPTIONS, ...options };
  switch (opts.strategy) {
    case 'bfs':
      return bfs(model, opts);
    case 'dfs':
      return dfs(model, opts);
    case 'random':
    case 'pct':
    case 'coverage':
      return guided(model, opts);
  }
}

/** A path as numbered, readable lines. */
export function describePath<S, A>(model: Model<S, A>, path: Path<S, A>): string[] {
  const out: string[] = [];
  let prev = path.init;
  path.steps.forEach((st, i) => {
    out.push(`${String(i + 1).padStart(4)}. ${model.describeAction(st.action, prev)}`);
    prev = st.state;
  });
  return out;
}

export type { ExploreOptions, ExploreResult, Model } from './model.ts';

/**
 * "Did you mean": the closest of a set of valid names to a misspelled one, by optimal string
 * alignment distance (Levenshtein plus adjacent transpositions), case-insensitively. A name too
 * far from every candidate gets no suggestion; the message lists the valid ones instead.
 */

/** Edit distance with adjacent transpositions; inputs longer than 200 characters count as far. */
export function editDistance(a: string, b: string): number {
  if (a.length > 200 || b.length > 200) return Math.max(a.length, b.length);
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1).fill(0);
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m]!;
}

/** The candidate closest to `word`, or null when none is within reach (a third of its length, at least 2). */
export function closest(word: string, candidates: Iterable<string>): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best === null) return null;
  const reach = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= reach ? best : null;
}

/** Shows a key as it came, cut to a readable length. */
export function showKey(k: string): string {
  const s = JSON.stringify(k).slice(1, -1);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** "unknown key `nmae`; did you mean `name`?", or the valid keys when none is close. */
export function unknownKeyMessage(key: string, valid: readonly string[], what = 'key'): string {
  const c = closest(key, valid);
  if (c !== null) return `unknown ${what} \`${showKey(key)}\`; did you mean \`${c}\`?`;
  const list = valid.length > 30 ? `${valid.slice(0, 30).join(', ')}, ...` : valid.join(', ');
  return `unknown ${what} \`${showKey(key)}\` (valid: ${list || 'none'})`;
}

// Page URLs with their query: empty values left out, keys in the order
// given, so the same view always has the same URL.

export type Params = Record<string, string | number | null | undefined>;

export function withQuery(path: string, params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    const s = String(v).trim();
    if (s) q.set(k, s);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// The named parameters of a query string ("" for missing ones).
export function readQuery<K extends string>(search: string, keys: readonly K[]): Record<K, string> {
  const q = new URLSearchParams(search);
  const out = {} as Record<K, string>;
  for (const k of keys) out[k] = (q.get(k) ?? '').trim();
  return out;
}

// Cursor paging history of one page kind: for a query and cursor, the
// cursor of the page before it.
export class CursorTrail {
  private readonly prev = new Map<string, string>();
  remember(query: string, next: string, current: string): void {
    this.prev.set(`${query}|${next}`, current);
  }
  before(query: string, current: string): string {
    return this.prev.get(`${query}|${current}`) ?? '';
  }
}

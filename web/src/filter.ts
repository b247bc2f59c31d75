// The Backup list's search filter: its form state, its place in the page URL
// (so a filtered list can be bookmarked, shared and survives reload) and the
// query of GET /api/v1/copies. Pure functions, no DOM.

export const ENGINES = [
  { id: 'anti-virus', label: 'Anti-Virus', short: 'AV' },
  { id: 'anti-spam', label: 'Anti-Spam', short: 'AS' },
  { id: 'anti-phishing', label: 'Anti-Phishing', short: 'AP' },
  { id: 'content-filtering', label: 'Content filtering', short: 'CF' },
  { id: 'sender-auth', label: 'Sender authentication', short: 'SA' },
  { id: 'blacklist', label: 'Address black list', short: 'BL' },
  { id: 'external', label: 'External analysis', short: 'EXT' },
] as const;

export type EngineId = (typeof ENGINES)[number]['id'];

export const PERIODS = [
  { id: '', label: 'Any time' },
  { id: 'hour', label: 'Last hour' },
  { id: 'day', label: 'Last day' },
  { id: 'week', label: 'Last week' },
  { id: '2weeks', label: 'Last 2 weeks' },
  { id: 'month', label: 'Last month' },
  { id: '3months', label: 'Last 3 months' },
  { id: 'year', label: 'Last year' },
  { id: 'custom', label: 'Custom…' },
] as const;

export type Period = (typeof PERIODS)[number]['id'];

export interface Filter {
  from: string;
  to: string;
  subject: string;
  messageId: string;
  rule: string;
  period: Period;
  // Only with period 'custom': as typed (datetime-local "YYYY-MM-DDTHH:MM",
  // a date, or RFC 3339).
  since: string;
  until: string;
  engines: EngineId[];
  // Whole KB (1 KB = 1024 bytes), kept as text so a half-typed value
  // round-trips; validateFilter says whether it is usable.
  sizeLeKb: string;
  sizeGeKb: string;
}

export const EMPTY_FILTER: Readonly<Filter> = Object.freeze({
  from: '',
  to: '',
  subject: '',
  messageId: '',
  rule: '',
  period: '',
  since: '',
  until: '',
  engines: [],
  sizeLeKb: '',
  sizeGeKb: '',
});

// URL (and API) parameter of each text field, in the order they are written.
const TEXT_KEYS: ReadonlyArray<[keyof Filter, string]> = [
  ['from', 'from'],
  ['to', 'to'],
  ['subject', 'subject'],
  ['messageId', 'message_id'],
  ['rule', 'rule'],
];

const ENGINE_IDS: ReadonlySet<string> = new Set(ENGINES.map((e) => e.id));
const PERIOD_IDS: ReadonlySet<string> = new Set(PERIODS.map((p) => p.id));

function isPeriod(s: string): s is Period {
  return PERIOD_IDS.has(s);
}

function sortEngines(ids: Iterable<string>): EngineId[] {
  const want = new Set(ids);
  return ENGINES.filter((e) => want.has(e.id)).map((e) => e.id);
}

// Reads a filter from a query string ("?from=x&engine=anti-virus,anti-spam")
// or URLSearchParams. Tolerant of hand-edited URLs: unknown periods and
// engines are dropped, since/until imply a custom period.
export function filterFromQuery(query: string | URLSearchParams): Filter {
  const q = typeof query === 'string' ? new URLSearchParams(query) : query;
  const f: Filter = { ...EMPTY_FILTER, engines: [] };
  for (const [field, key] of TEXT_KEYS) {
    (f[field] as string) = q.get(key) ?? '';
  }
  const period = q.get('period') ?? '';
  f.period = isPeriod(period) ? period : '';
  f.since = q.get('since') ?? '';
  f.until = q.get('until') ?? '';
  if (f.since || f.until) f.period = 'custom';
  const engines = q.getAll('engine').flatMap((v) => v.split(','));
  f.engines = sortEngines(engines.map((e) => e.trim()).filter((e) => ENGINE_IDS.has(e)));
  f.sizeLeKb = (q.get('size_le_kb') ?? '').trim();
  f.sizeGeKb = (q.get('size_ge_kb') ?? '').trim();
  return f;
}

// The filter's parameters in canonical order, empty ones left out, with
// since/until written by `time` (identity for the URL).
function filterParams(f: Filter, time: (s: string) => string): URLSearchParams {
  const q = new URLSearchParams();
  for (const [field, key] of TEXT_KEYS) {
    const v = (f[field] as string).trim();
    if (v) q.set(key, v);
  }
  if (f.period === 'custom') {
    const since = f.since.trim();
    const until = f.until.trim();
    if (since || until) {
      q.set('period', 'custom');
      if (since) q.set('since', time(since));
      if (until) q.set('until', time(until));
    }
  } else if (f.period) {
    q.set('period', f.period);
  }
  const engines = sortEngines(f.engines);
  if (engines.length) q.set('engine', engines.join(','));
  if (f.sizeLeKb.trim()) q.set('size_le_kb', f.sizeLeKb.trim());
  if (f.sizeGeKb.trim()) q.set('size_ge_kb', f.sizeGeKb.trim());
  return q;
}

// The query string for the page URL, without '?'; "" for the empty filter.
// filterFromQuery(filterToQuery(f)) equals f once f is normalized (trimmed,
// engines in the fixed order, since/until only with a custom period).
export function filterToQuery(f: Filter): string {
  return filterParams(f, (s) => s).toString();
}

// A time as typed in the filter, for the API. Local wall-clock times from a
// datetime-local field ("2026-12-07T02:12") become RFC 3339 UTC, so the
// server and the list (which shows local times) agree; dates and times that
// carry a zone go as they are.
export function localTimeToApi(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  if (!m) return s.trim();
  const [, y, mo, d, h, mi, sec] = m;
  const t = new Date(+y, +mo - 1, +d, +h, +mi, sec ? +sec : 0);
  if (Number.isNaN(t.getTime())) return s.trim();
  return t.toISOString().replace(/\.000Z$/, 'Z');
}

// The parameters of GET /api/v1/copies for this filter (paging not included).
export function filterToApiParams(f: Filter): URLSearchParams {
  return filterParams(f, localTimeToApi);
}

export function isEmptyFilter(f: Filter): boolean {
  return filterToQuery(f) === '';
}

function parseTime(s: string): number {
  const t = Date.parse(localTimeToApi(s));
  return t;
}

// null when the filter can be sent; otherwise what to fix, for the user.
export function validateFilter(f: Filter): string | null {
  for (const [v, name] of [
    [f.sizeLeKb, 'Size ≤'],
    [f.sizeGeKb, 'Size ≥'],
  ] as const) {
    if (v.trim() && !/^\d{1,12}$/.test(v.trim())) return `${name} must be a whole number of KB`;
  }
  if (f.sizeLeKb.trim() && f.sizeGeKb.trim() && +f.sizeGeKb > +f.sizeLeKb) {
    return 'Size ≥ is larger than size ≤: nothing can match';
  }
  if (f.period === 'custom') {
    const since = f.since.trim();
    const until = f.until.trim();
    if (!since && !until) return 'A custom period needs a start or an end';
    if (since && Number.isNaN(parseTime(since))) return 'The start of the period is not a time';
    if (until && Number.isNaN(parseTime(until))) return 'The end of the period is not a time';
    if (since && until && parseTime(since) > parseTime(until)) {
      return 'The period ends before it starts';
    }
  }
  return null;
}

// The list URL's own parameters beside the filter.
export interface ListQuery {
  filter: Filter;
  before: string; // paging cursor ("" = first page)
}

export function listQueryFromSearch(search: string): ListQuery {
  const q = new URLSearchParams(search);
  const before = (q.get('before') ?? '').trim();
  return { filter: filterFromQuery(q), before: /^\d+$/.test(before) ? before : '' };
}

export function listSearch(filter: Filter, before = ''): string {
  const q = new URLSearchParams(filterToQuery(filter));
  if (before) q.set('before', before);
  const s = q.toString();
  return s ? `?${s}` : '';
}

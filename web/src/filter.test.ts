import { describe, expect, it } from 'vitest';
import {
  EMPTY_FILTER,
  type Filter,
  filterFromQuery,
  filterToApiParams,
  filterToQuery,
  isEmptyFilter,
  listQueryFromSearch,
  listSearch,
  localTimeToApi,
  validateFilter,
} from './filter';

const full: Filter = {
  from: 'exa',
  to: 'bob@example.org',
  subject: 'Invoice & "Q3" #1',
  messageId: '<abc@host>',
  rule: 'R-17',
  period: 'custom',
  since: '2026-03-01T08:00',
  until: '2026-03-31T23:59',
  engines: ['anti-virus', 'anti-phishing', 'external'],
  sizeLeKb: '2048',
  sizeGeKb: '10',
};

describe('filter <-> URL query', () => {
  it('round-trips every field', () => {
    const q = filterToQuery(full);
    expect(filterFromQuery(q)).toEqual(full);
    expect(filterFromQuery(`?${q}`)).toEqual(full);
  });

  it('round-trips each preset period and each single field', () => {
    for (const period of ['hour', 'day', 'week', '2weeks', 'month', '3months', 'year'] as const) {
      const f = { ...EMPTY_FILTER, engines: [], period };
      expect(filterFromQuery(filterToQuery(f))).toEqual(f);
    }
    for (const k of ['from', 'to', 'subject', 'messageId', 'rule', 'sizeLeKb', 'sizeGeKb'] as const) {
      const f = { ...EMPTY_FILTER, engines: [], [k]: '12' };
      expect(filterFromQuery(filterToQuery(f))).toEqual(f);
    }
  });

  it('writes the API parameter names in a fixed order and leaves empty ones out', () => {
    expect(filterToQuery({ ...EMPTY_FILTER, engines: ['anti-spam', 'anti-virus'], from: ' a ', sizeGeKb: '5' })).toBe(
      'from=a&engine=anti-virus%2Canti-spam&size_ge_kb=5',
    );
    expect(filterToQuery({ ...EMPTY_FILTER, engines: [], messageId: 'x' })).toBe('message_id=x');
    expect(filterToQuery({ ...EMPTY_FILTER, engines: [] })).toBe('');
    expect(isEmptyFilter({ ...EMPTY_FILTER, engines: [] })).toBe(true);
    expect(isEmptyFilter({ ...EMPTY_FILTER, engines: [], rule: '3' })).toBe(false);
  });

  it('drops since/until unless the period is custom, and custom without times', () => {
    expect(filterToQuery({ ...EMPTY_FILTER, engines: [], period: 'week', since: '2026-01-01T00:00' })).toBe('period=week');
    expect(filterToQuery({ ...EMPTY_FILTER, engines: [], period: 'custom' })).toBe('');
  });

  it('is tolerant of hand-edited URLs', () => {
    const f = filterFromQuery('period=fortnight&engine=anti-virus,bogus&engine=blacklist&size_le_kb=%205%20');
    expect(f.period).toBe('');
    expect(f.engines).toEqual(['anti-virus', 'blacklist']);
    expect(f.sizeLeKb).toBe('5');
    // A start alone means a custom period.
    expect(filterFromQuery('since=2026-01-01').period).toBe('custom');
  });

  it('keeps the paging cursor beside the filter', () => {
    const s = listSearch(full, '1234');
    expect(s.startsWith('?from=exa')).toBe(true);
    expect(listQueryFromSearch(s)).toEqual({ filter: full, before: '1234' });
    expect(listQueryFromSearch('?before=abc').before).toBe('');
    expect(listSearch({ ...EMPTY_FILTER, engines: [] })).toBe('');
  });
});

describe('API parameters', () => {
  it('sends local datetime-local values as UTC (TZ=Europe/Berlin)', () => {
    // March 1st is winter time (+01:00), July 1st summer time (+02:00).
    expect(localTimeToApi('2026-03-01T08:00')).toBe('2026-03-01T07:00:00Z');
    expect(localTimeToApi('2026-07-01T08:00:30')).toBe('2026-07-01T06:00:30Z');
    // Dates and zoned times go as they are.
    expect(localTimeToApi('2026-03-01')).toBe('2026-03-01');
    expect(localTimeToApi('2026-03-01T08:00:00+05:00')).toBe('2026-03-01T08:00:00+05:00');
  });

  it('builds the /api/v1/copies query', () => {
    const q = filterToApiParams(full);
    expect(q.get('since')).toBe('2026-03-01T07:00:00Z');
    expect(q.get('until')).toBe('2026-03-31T21:59:00Z');
    expect(q.get('period')).toBe('custom');
    expect(q.get('message_id')).toBe('<abc@host>');
    expect(q.get('engine')).toBe('anti-virus,anti-phishing,external');
    expect(q.get('size_le_kb')).toBe('2048');
  });
});

describe('validateFilter', () => {
  it('accepts a good filter and the empty one', () => {
    expect(validateFilter(full)).toBeNull();
    expect(validateFilter({ ...EMPTY_FILTER, engines: [] })).toBeNull();
  });
  it('names what is wrong', () => {
    expect(validateFilter({ ...full, sizeLeKb: '1.5' })).toMatch(/whole number/);
    expect(validateFilter({ ...full, sizeGeKb: '-3' })).toMatch(/whole number/);
    expect(validateFilter({ ...full, sizeGeKb: '5000' })).toMatch(/nothing can match/);
    expect(validateFilter({ ...full, since: '', until: '' })).toMatch(/start or an end/);
    expect(validateFilter({ ...full, since: 'yesterday' })).toMatch(/start/);
    expect(validateFilter({ ...full, since: full.until, until: full.since })).toMatch(/ends before/);
  });
});

import { describe, expect, it } from 'vitest';
import { loginUrl, parseRoute, safeNext } from './router';
import { CursorTrail, readQuery, withQuery } from './query';

describe('routes', () => {
  it('parses every page', () => {
    expect(parseRoute('/')).toEqual({ name: 'list' });
    expect(parseRoute('/login')).toEqual({ name: 'login' });
    expect(parseRoute('/copies/42')).toEqual({ name: 'copy', id: 42 });
    expect(parseRoute('/copies/42/')).toEqual({ name: 'copy', id: 42 });
    expect(parseRoute('/queue')).toEqual({ name: 'queue' });
    expect(parseRoute('/audit')).toEqual({ name: 'audit' });
    expect(parseRoute('/settings')).toEqual({ name: 'settings' });
    expect(parseRoute('/usage')).toEqual({ name: 'usage' });
    expect(parseRoute('/copies/abc')).toEqual({ name: 'notfound' });
    expect(parseRoute('/copies/1e3')).toEqual({ name: 'notfound' });
    expect(parseRoute('/nope')).toEqual({ name: 'notfound' });
  });
});

describe('return after login', () => {
  it('follows only paths on this site', () => {
    expect(safeNext('/copies/3')).toBe('/copies/3');
    expect(safeNext('/?from=exa&period=day')).toBe('/?from=exa&period=day');
    expect(safeNext('//evil.example/')).toBeNull();
    expect(safeNext('/\\evil.example')).toBeNull();
    expect(safeNext('https://evil.example/')).toBeNull();
    expect(safeNext('javascript:alert(1)')).toBeNull();
    expect(safeNext('/login?next=/x')).toBeNull();
    expect(safeNext('/a\nb')).toBeNull();
    expect(safeNext(null)).toBeNull();
  });

  it('builds the login URL that returns to the wanted page', () => {
    expect(loginUrl('/copies/3')).toBe('/login?next=%2Fcopies%2F3');
    expect(loginUrl('/?from=a%26b')).toBe(`/login?next=${encodeURIComponent('/?from=a%26b')}`);
    expect(loginUrl('/')).toBe('/login');
    expect(loginUrl('/login')).toBe('/login');
    const back = new URLSearchParams(loginUrl('/queue?state=failed').split('?')[1]).get('next');
    expect(safeNext(back)).toBe('/queue?state=failed');
  });
});

describe('page queries', () => {
  it('writes only non-empty values and reads them back', () => {
    const url = withQuery('/audit', { account: 'alice', action: '', copy: 12, before: null });
    expect(url).toBe('/audit?account=alice&copy=12');
    expect(readQuery(url.split('?')[1], ['account', 'copy', 'action'] as const)).toEqual({ account: 'alice', copy: '12', action: '' });
    expect(withQuery('/queue', {})).toBe('/queue');
  });

  it('remembers the way back through cursor pages', () => {
    const t = new CursorTrail();
    t.remember('q', '90', '');
    t.remember('q', '40', '90');
    expect(t.before('q', '40')).toBe('90');
    expect(t.before('q', '90')).toBe('');
    expect(t.before('other', '40')).toBe('');
  });
});

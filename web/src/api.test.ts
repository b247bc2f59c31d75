import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, saveUrl, setCsrfToken, setUnauthorizedHandler, urls } from './api';

type Call = { url: string; init: RequestInit };
let calls: Call[];

function answer(status: number, body?: unknown, headers: Record<string, string> = {}) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body);
      return new Response(status === 204 ? null : text, { status, headers });
    }),
  );
}

function header(c: Call, name: string): string | undefined {
  return (c.init.headers as Record<string, string>)[name];
}

beforeEach(() => {
  calls = [];
  setCsrfToken('');
  setUnauthorizedHandler(null);
});
afterEach(() => vi.unstubAllGlobals());

describe('api client', () => {
  it('sends the CSRF token on every state-changing call, never on reads', async () => {
    setCsrfToken('c0ffee');
    answer(200, { message: 'Marked messages have been deleted', deleted: 2 });
    await api.deleteCopies([1, 2]);
    await api.putSettings({ html_preview: false });
    await api.deliver({ ids: [1], original: true, to: [], format: 'as-is', remove_message_id: false });
    await api.copy(1);
    expect(calls.map((c) => [c.init.method, header(c, 'X-CSRF-Token')])).toEqual([
      ['POST', 'c0ffee'],
      ['PUT', 'c0ffee'],
      ['POST', 'c0ffee'],
      ['GET', undefined],
    ]);
    expect(calls[0].url).toBe('/api/v1/copies/delete');
    expect(JSON.parse(calls[0].init.body as string)).toEqual({ ids: [1, 2] });
    expect(header(calls[0], 'Content-Type')).toBe('application/json');
  });

  it('sends the token on logout too', async () => {
    setCsrfToken('abc');
    answer(204);
    await expect(api.logout()).resolves.toBeUndefined();
    expect(calls[0].init.method).toBe('DELETE');
    expect(header(calls[0], 'X-CSRF-Token')).toBe('abc');
  });

  it('reports a 401 to the handler (session gone), except for the login itself', async () => {
    const gone = vi.fn();
    setUnauthorizedHandler(gone);
    answer(401, { error: 'no session' });
    await expect(api.copies(new URLSearchParams('from=x'))).rejects.toMatchObject({ status: 401 });
    expect(gone).toHaveBeenCalledTimes(1);
    answer(401, { error: 'wrong user name or password' });
    await expect(api.login('a', 'b')).rejects.toThrow('wrong user name or password');
    expect(gone).toHaveBeenCalledTimes(1);
    expect(calls[0].url).toBe('/api/v1/copies?from=x');
  });

  it('carries the server message and Retry-After', async () => {
    answer(429, { error: 'too many attempts', retry_after: 17 });
    const e = await api.login('a', 'b').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).retryAfter).toBe(17);
    answer(429, 'slow down', { 'Retry-After': '9' });
    expect(((await api.login('a', 'b').catch((x: unknown) => x)) as ApiError).retryAfter).toBe(9);
    answer(502, '<html>bad gateway</html>');
    await expect(api.usage()).rejects.toThrow('The server failed (HTTP 502)');
  });

  it('turns a network failure into an ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api.session()).rejects.toMatchObject({ status: 0, message: 'The server cannot be reached' });
  });

  it('leaves empty query parameters out', async () => {
    answer(200, { items: [], next: null, counts: {} });
    await api.deliveries({ state: 'failed', copy: '', before: undefined, limit: 100 });
    expect(calls[0].url).toBe('/api/v1/deliveries?state=failed&limit=100');
  });

  it('saves one copy as .eml and several as one archive', () => {
    expect(saveUrl([7])).toBe('/api/v1/copies/7/eml');
    expect(saveUrl([7, 8, 9])).toBe('/api/v1/copies/archive?ids=7,8,9');
    expect(saveUrl([])).toBeNull();
    expect(urls.html(5)).toBe('/api/v1/copies/5/html');
  });
});

// The console's client of the REST API (same origin, session cookie).
// Every state-changing request carries the session's X-CSRF-Token. A 401 on
// any call but the login itself means the session is gone: the handler set
// by the app sends the user to the login page, which returns to where they
// were.

import type {
  AuditEntry,
  Copy,
  DeliveryAnswer,
  DeliveryPage,
  DeliveryRequest,
  Page,
  Session,
  Settings,
  SettingsUpdate,
  TextPreview,
  Usage,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

const BASE = '/api/v1';

function statusText(status: number): string {
  switch (status) {
    case 401:
      return 'Please sign in again';
    case 403:
      return 'Your role does not allow this';
    case 404:
      return 'Not found';
    case 429:
      return 'Too many requests; wait a moment';
    default:
      return status >= 500 ? `The server failed (HTTP ${status})` : `Request failed (HTTP ${status})`;
  }
}

async function errorFrom(res: Response): Promise<ApiError> {
  let message = '';
  let retryAfter: number | null = null;
  try {
    const body = (await res.json()) as { error?: unknown; retry_after?: unknown };
    if (typeof body.error === 'string') message = body.error;
    if (typeof body.retry_after === 'number') retryAfter = body.retry_after;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (retryAfter === null) {
    const h = res.headers.get('Retry-After');
    if (h && /^\d+$/.test(h)) retryAfter = Number(h);
  }
  return new ApiError(res.status, message || statusText(res.status), retryAfter);
}

interface CallOptions {
  body?: unknown;
  // The login form handles its own 401 (wrong password).
  own401?: boolean;
}

async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached');
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && !opts.own401 && onUnauthorized) onUnauthorized();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, 'The server sent an answer that is not JSON');
  }
}

function qs(params: URLSearchParams | Record<string, string | number | null | undefined>): string {
  const q =
    params instanceof URLSearchParams
      ? params
      : new URLSearchParams(
          Object.entries(params)
            .filter(([, v]) => v !== undefined && v !== null && v !== '')
            .map(([k, v]) => [k, String(v)]),
        );
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  session: () => call<Session>('GET', '/session'),
  login: (name: string, password: string) =>
    call<Session>('POST', '/session', { body: { name, password }, own401: true }),
  logout: () => call<void>('DELETE', '/session', { own401: true }),

  copies: (params: URLSearchParams) => call<Page<Copy>>('GET', `/copies${qs(params)}`),
  copy: (id: number) => call<Copy>('GET', `/copies/${id}`),
  text: (id: number) => call<TextPreview>('GET', `/copies/${id}/text`),
  deleteCopies: (ids: number[]) =>
    call<{ message: string; deleted: number }>('POST', '/copies/delete', { body: { ids } }),

  deliver: (req: DeliveryRequest) => call<DeliveryAnswer>('POST', '/deliveries', { body: req }),
  deliverPersonal: (req: { ids: number[]; mailbox?: string }) =>
    call<DeliveryAnswer>('POST', '/deliveries', { body: req }),
  deliveries: (params: Record<string, string | number | null | undefined>) =>
    call<DeliveryPage>('GET', `/deliveries${qs(params)}`),

  settings: () => call<Settings>('GET', '/settings'),
  putSettings: (update: SettingsUpdate) => call<Settings>('PUT', '/settings', { body: update }),
  usage: () => call<Usage>('GET', '/usage'),
  audit: (params: Record<string, string | number | null | undefined>) =>
    call<Page<AuditEntry>>('GET', `/audit${qs(params)}`),
};

// Download and preview addresses: opened by the browser itself (an <a
// download> or an <iframe>), with the session cookie.
export const urls = {
  eml: (id: number) => `${BASE}/copies/${id}/eml`,
  archive: (ids: number[]) => `${BASE}/copies/archive?ids=${ids.join(',')}`,
  html: (id: number) => `${BASE}/copies/${id}/html`,
  auditExport: (params: Record<string, string | number | null | undefined>) => `${BASE}/audit/export${qs(params)}`,
};

// Saves a copy (one → .eml) or several (→ one mbox archive) as a download:
// the page stays where it is.
export function saveUrl(ids: number[]): string | null {
  if (ids.length === 0) return null;
  return ids.length === 1 ? urls.eml(ids[0]) : urls.archive(ids);
}

export function startDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// History-API routing: the console's pages are real paths (/copies/12,
// /queue?state=failed), so reload, back/forward, bookmarks and "open in new
// tab" work. mailvaultd answers every non-/api path with index.html.

import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'login' }
  | { name: 'list' }
  | { name: 'copy'; id: number }
  | { name: 'queue' }
  | { name: 'audit' }
  | { name: 'settings' }
  | { name: 'usage' }
  | { name: 'notfound' };

export function parseRoute(pathname: string): Route {
  const p = pathname.replace(/\/+$/, '') || '/';
  switch (p) {
    case '/':
      return { name: 'list' };
    case '/login':
      return { name: 'login' };
    case '/queue':
      return { name: 'queue' };
    case '/audit':
      return { name: 'audit' };
    case '/settings':
      return { name: 'settings' };
    case '/usage':
      return { name: 'usage' };
  }
  const m = /^\/copies\/(\d{1,15})$/.exec(p);
  if (m) return { name: 'copy', id: Number(m[1]) };
  return { name: 'notfound' };
}

// The page to return to after login, from ?next=. Only a path on this site
// (no "//host", no scheme, not the login page itself) is followed, so a
// crafted link cannot send a user elsewhere after they sign in.
export function safeNext(next: string | null | undefined): string | null {
  if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return null;
  if (/[\u0000-\u001f]/.test(next)) return null;
  const path = next.split(/[?#]/)[0];
  if (path === '/login' || path === '/login/') return null;
  return next;
}

// The login page that comes back to `current` (path + query).
export function loginUrl(current: string): string {
  const next = safeNext(current);
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

export interface Location {
  pathname: string;
  search: string;
}

const CHANGE = 'mv:navigate';

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to === here && !opts.replace) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

// The current location; re-renders on navigate() and back/forward.
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return loc;
}

// onClick for <a href="/path">: an in-app navigation for a plain left
// click; modified clicks (new tab, new window) are left to the browser.
export function linkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLElement).closest('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/api/')) return;
  e.preventDefault();
  navigate(href);
}

// The Backup list URL the user last looked at, so "To messages list" from a
// message returns to the same filter and page (this tab only).
let lastList = '/';
export function rememberListUrl(url: string): void {
  lastList = url;
}
export function listUrl(): string {
  return lastList;
}

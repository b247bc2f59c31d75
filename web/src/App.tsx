// The console shell: the session, the header (navigation the role may use,
// store usage, account, sign out), the banner for action outcomes, and the
// page for the current URL.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, setCsrfToken, setUnauthorizedHandler } from './api';
import { Audit } from './Audit';
import { CopyList } from './CopyList';
import { CopyView } from './CopyView';
import { Login } from './Login';
import { can, homePath, listActions, navItems, routePermission } from './perms';
import { mailboxChoices, personalBackupOff } from './personal';
import { Queue } from './Queue';
import { loginUrl, navigate, parseRoute, safeNext, useLocation, type Route } from './router';
import { SettingsPage } from './Settings';
import { Shown } from './Shown';
import type { Session } from './types';
import { ErrorState, Link, Loading, type Notice } from './ui';
import { UsagePage, UsageWidget } from './Usage';

const TITLES: Record<Route['name'], string> = {
  login: 'Sign in',
  list: 'Backup',
  copy: 'Message',
  queue: 'Delivery queue',
  audit: 'Audit log',
  settings: 'Settings',
  usage: 'Store usage',
  notfound: 'Not found',
};

function here(): string {
  return window.location.pathname + window.location.search;
}

export function App() {
  const loc = useLocation();
  const route = parseRoute(loc.pathname);
  // undefined: asking the server; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [bootError, setBootError] = useState<unknown>(null);
  const [expired, setExpired] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  // An outcome banner belongs to the part of the console it came from: it
  // stays from a message to the list (delete there returns to the list) and
  // goes when the user moves on to the queue, the audit log, ...
  const section = route.name === 'copy' ? 'list' : route.name;
  useEffect(() => setNotice(null), [section]);
  const [boot, setBoot] = useState(0);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken('');
      setSession((s) => {
        if (s) setExpired(true);
        return null;
      });
      if (parseRoute(window.location.pathname).name !== 'login') navigate(loginUrl(here()), { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  useEffect(() => {
    setBootError(null);
    api.session().then(
      (s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        else setBootError(e);
      },
    );
  }, [boot]);

  useEffect(() => {
    document.title = `${TITLES[route.name]} · mailvault`;
  }, [route.name]);

  // Signed out anywhere but the login page: go there, and come back after.
  useEffect(() => {
    if (session === null && route.name !== 'login') navigate(loginUrl(here()), { replace: true });
    if (session && route.name === 'login') {
      const next = safeNext(new URLSearchParams(loc.search).get('next'));
      navigate(next ?? homePath(session), { replace: true });
    }
    // A role without the Backup list starts on its first page instead.
    if (session && route.name === 'list' && !can(session, 'search') && homePath(session) !== '/') {
      navigate(homePath(session), { replace: true });
    }
  }, [session, route.name]);

  if (bootError) {
    return (
      <main class="boot">
        <ErrorState error={bootError} onRetry={() => setBoot((b) => b + 1)} />
      </main>
    );
  }
  if (route.name === 'login') {
    if (session) return <Loading />;
    return (
      <Login
        expired={expired}
        onLoggedIn={(s) => {
          setCsrfToken(s.csrf_token);
          setExpired(false);
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  if (!session) return <Loading />;

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      // Signed out either way: the cookie is dropped by the server or expired.
    }
    setCsrfToken('');
    setSession(null);
    setExpired(false);
    navigate('/login', { replace: true });
  };

  const actions = listActions(session);
  const need = routePermission(route.name);
  let page;
  if (personalBackupOff(session)) {
    page = (
      <ErrorState error={new ApiError(403, 'The personal Backup is turned off by the administrator')} />
    );
  } else if (need && !can(session, need)) {
    page = <ErrorState error={new ApiError(403, 'Your role cannot open this page')} />;
  } else {
    switch (route.name) {
      case 'list':
        page = (
          <CopyList search={loc.search} actions={actions} notify={setNotice} mailboxes={mailboxChoices(session)} />
        );
        break;
      case 'copy':
        page = <CopyView key={route.id} id={route.id} actions={actions} notify={setNotice} />;
        break;
      case 'queue':
        page = <Queue search={loc.search} />;
        break;
      case 'audit':
        page = <Audit search={loc.search} />;
        break;
      case 'settings':
        page = <SettingsPage canWrite={can(session, 'settings_write')} />;
        break;
      case 'usage':
        page = <UsagePage />;
        break;
      default:
        page = <ErrorState error={new ApiError(404, 'There is no such page')} />;
    }
  }

  return (
    <div class="shell">
      <header class="top">
        <Link href={homePath(session)} class="brand">
          <span class="brand-mark">mv</span> mailvault
        </Link>
        <nav>
          {navItems(session).map((n) => (
            <Link
              key={n.path}
              href={n.path}
              data-testid={n.testid}
              class={parseRoute(n.path).name === section ? 'active' : undefined}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <span class="spacer" />
        {can(session, 'usage') ? <UsageWidget refreshKey={loc.pathname} /> : null}
        <span class="account" data-testid="account">
          <Shown value={session.account} /> <span class="role">{session.role}</span>
        </span>
        <button type="button" class="btn btn-quiet" data-testid="logout" onClick={logout}>
          Sign out
        </button>
      </header>
      <main class="content">
        {notice ? (
          <div class={`banner banner-${notice.kind}`} data-testid="banner" role={notice.kind === 'error' ? 'alert' : 'status'}>
            <Shown value={notice.text} data-testid="banner-text" />
            <button type="button" class="link" data-testid="banner-hide" onClick={() => setNotice(null)}>
              Hide
            </button>
          </div>
        ) : null}
        {page}
      </main>
    </div>
  );
}

// The sign-in page. After a 429 the button stays off for the server's
// Retry-After, so nobody hammers a throttled account.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import type { Session } from './types';
import { errorMessage } from './ui';

export function Login(props: { onLoggedIn: (s: Session) => void; expired: boolean }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(props.expired ? 'Your session has ended; please sign in again.' : '');
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const [, setNow] = useState(0);
  const nameField = useRef<HTMLInputElement>(null);
  useEffect(() => nameField.current?.focus(), []);

  useEffect(() => {
    if (!waitUntil) return;
    const t = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= waitUntil) setWaitUntil(0);
    }, 500);
    return () => clearInterval(t);
  }, [waitUntil]);

  const wait = waitUntil ? Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000)) : 0;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name || !password) {
      setError('Enter your user name and password');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const s = await api.login(name, password);
      props.onLoggedIn(s);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const secs = err.retryAfter ?? 30;
        setWaitUntil(Date.now() + secs * 1000);
      }
      setError(errorMessage(err));
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-box" onSubmit={submit} data-testid="login-form">
        <h1>
          <span class="brand-mark">mv</span> mailvault
        </h1>
        <p class="sub">Backup console</p>
        <label class="field">
          <span>User name</span>
          <input
            data-testid="login-name"
            autocomplete="username"
            ref={nameField}
            value={name}
            spellcheck={false}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            data-testid="login-password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error ? (
          <div class="form-error" data-testid="login-error" role="alert">
            {error}
            {wait ? ` (try again in ${wait} s)` : ''}
          </div>
        ) : null}
        <button type="submit" class="btn btn-primary wide" data-testid="login-submit" disabled={busy || wait > 0}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

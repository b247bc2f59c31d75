// Small pieces shared by the pages: links, chips, empty/error states, the
// modal frame, and a data-loading hook.

import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { statusTone, stateTone } from './format';
import { displayText } from './display';
import { linkClick } from './router';
import { Shown } from './Shown';

export function Link(props: JSX.HTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={linkClick as unknown as JSX.MouseEventHandler<HTMLAnchorElement>} />;
}

export function StatusChip({ label, engine, short }: { label: string; engine?: string; short?: string }) {
  const title = displayText(engine ? `${engine}: ${label}` : label);
  return (
    <span class={`chip chip-${statusTone(label)}`} title={title}>
      {short ? (
        <b>
          <Shown value={short} />
        </b>
      ) : null}
      <Shown value={label} />
    </span>
  );
}

export function StateChip({ state }: { state: string }) {
  return (
    <span class={`chip chip-${stateTone(state)}`}>
      <Shown value={state} />
    </span>
  );
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const status = error instanceof ApiError ? error.status : 0;
  return (
    <div class="state state-error" data-testid="error-state" role="alert">
      <strong>{status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Could not load'}</strong>
      <Shown value={errorMessage(error)} />
      {onRetry && status !== 403 && status !== 404 ? (
        <button type="button" class="btn" data-testid="error-retry" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ children }: { children: ComponentChildren }) {
  return (
    <div class="state state-empty" data-testid="empty-state">
      {children}
    </div>
  );
}

export function Loading() {
  return (
    <div class="state state-loading" data-testid="loading">
      Loading…
    </div>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

// Runs `load` when `key` changes (and on reload()); answers of a superseded
// run are dropped, so a fast typist never sees an older page last. The
// previous data stays while the next loads, so the page does not flash.
export function useAsync<T>(load: () => Promise<T>, key: string): Async<T> {
  const [state, setState] = useState<{ data?: T; error: unknown; loading: boolean }>({
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => {
        if (run.current === mine) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (run.current === mine) setState({ data: undefined, error, loading: false });
      },
    );
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

// A modal dialog: Escape closes, focus moves in on open and back on close,
// Tab stays inside.
export function Modal(props: {
  title: string;
  testid: string;
  onClose: () => void;
  children: ComponentChildren;
  initialFocus?: string; // CSS selector inside the dialog
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = box.current;
    const first = el?.querySelector<HTMLElement>(props.initialFocus ?? 'input, select, textarea, button');
    first?.focus();
    return () => before?.focus?.();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
    } else if (e.key === 'Tab' && box.current) {
      const items = Array.from(
        box.current.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href]'),
      ).filter((x) => !(x as HTMLInputElement).disabled);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
    // Keys typed in a dialog never reach the list behind it.
    e.stopPropagation();
  };
  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testid}
        ref={box}
        onKeyDown={onKeyDown}
      >
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

export function ConfirmDialog(props: {
  title: string;
  message: ComponentChildren;
  okLabel: string;
  danger?: boolean;
  busy?: boolean;
  onOk: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal title={props.title} testid="confirm-dialog" onClose={props.onCancel} initialFocus="[data-testid=confirm-cancel]">
      <p>{props.message}</p>
      <div class="dialog-buttons">
        <button type="button" class="btn" data-testid="confirm-cancel" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'btn btn-danger' : 'btn btn-primary'}
          data-testid="confirm-ok"
          disabled={props.busy}
          onClick={props.onOk}
        >
          {props.okLabel}
        </button>
      </div>
    </Modal>
  );
}

// Pages report the outcome of an action through this (the app's banner).
export interface Notice {
  text: string;
  kind: 'ok' | 'error';
}
export type Notify = (n: Notice) => void;

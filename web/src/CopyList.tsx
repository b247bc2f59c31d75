// The Backup list: the filter, the copies newest first with check boxes and
// a keyboard cursor, cursor paging, and the Deliver / View / Save / Delete
// buttons. Filter and page live in the URL (?from=..&before=..).

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from './api';
import { CopyActions } from './CopyActions';
import { FilterBar } from './FilterBar';
import { currentMailbox, setCurrentMailbox, type MailboxChoice } from './personal';
import { ENGINES, filterToApiParams, filterToQuery, isEmptyFilter, listQueryFromSearch, listSearch, type Filter } from './filter';
import { formatBytes, formatTime, formatTimeFull, fromText, toText } from './format';
import { actionTargets, isTypingTarget, listKeyAction, moveCursor, toggle, toggleAll } from './keys';
import type { ListActions } from './perms';
import { navigate, rememberListUrl } from './router';
import type { Copy } from './types';
import { displayText } from './display';
import { Shown } from './Shown';
import { EmptyState, ErrorState, Link, StatusChip, useAsync, type Notify } from './ui';

const PAGE_SIZES = [25, 50, 100, 200];
const ENGINE_ORDER = new Map<string, number>(ENGINES.map((e, i) => [e.id, i]));
const ENGINE_BY_ID = new Map<string, (typeof ENGINES)[number]>(ENGINES.map((e) => [e.id, e]));

// Paging is by cursor (the server's `next`), so "previous" is remembered per
// filter: cursor → the cursor of the page before it, and its page number.
const previous = new Map<string, { before: string; page: number }>();
// The copy last opened from the list, to put the cursor back on return.
let lastOpened: number | null = null;

function storedPageSize(): number {
  const n = Number(globalThis.localStorage?.getItem('mv.pageSize'));
  return PAGE_SIZES.includes(n) ? n : 50;
}

export function sortedStatuses(statuses: Record<string, string> | null | undefined): Array<[string, string]> {
  return Object.entries(statuses ?? {}).sort(
    ([a], [b]) => (ENGINE_ORDER.get(a) ?? 99) - (ENGINE_ORDER.get(b) ?? 99) || a.localeCompare(b),
  );
}

export function StatusChips({ statuses }: { statuses: Record<string, string> | null | undefined }) {
  return (
    <span class="chips">
      {sortedStatuses(statuses).map(([engine, label]) => {
        const e = ENGINE_BY_ID.get(engine);
        return <StatusChip key={engine} label={label} engine={e?.label ?? engine} short={e?.short ?? engine} />;
      })}
    </span>
  );
}

export function CopyList(props: {
  search: string;
  actions: ListActions;
  notify: Notify;
  // Personal mode: the switch between the user's mailboxes (empty: none).
  mailboxes?: MailboxChoice[];
}) {
  const { filter, before } = useMemo(() => listQueryFromSearch(props.search), [props.search]);
  const [pageSize, setPageSize] = useState(storedPageSize);
  const [mailbox, setMailbox] = useState(currentMailbox);
  const filterKey = filterToQuery(filter);
  const key = `${filterKey}|${before}|${pageSize}|${mailbox}`;
  const page = useAsync(() => {
    const q = filterToApiParams(filter);
    if (mailbox) q.set('mailbox', mailbox);
    q.set('limit', String(pageSize));
    if (before) q.set('before', before);
    return api.copies(q);
  }, key);
  const items: Copy[] = useMemo(() => page.data?.items ?? [], [page.data]);
  const ids = useMemo(() => items.map((c) => c.id), [items]);

  const [checked, setChecked] = useState<Set<number>>(new Set());
  const [cursor, setCursor] = useState(-1);
  const filterRef = useRef<HTMLDivElement>(null);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  useEffect(() => {
    rememberListUrl(`/${listSearch(filter, before)}`);
  }, [key]);
  // A new page: nothing checked, cursor on the copy last opened or the top.
  useEffect(() => {
    setChecked(new Set());
    const back = lastOpened === null ? -1 : ids.indexOf(lastOpened);
    setCursor(back >= 0 ? back : ids.length ? 0 : -1);
  }, [ids]);
  useEffect(() => {
    tableRef.current?.querySelector('tr.cursor')?.scrollIntoView?.({ block: 'nearest' });
  }, [cursor]);

  const here = previous.get(`${filterKey}|${before}`);
  const pageNo = before ? here?.page || null : 1;
  const targets = actionTargets(checked, ids, cursor);

  const apply = (f: Filter) => navigate(`/${listSearch(f)}`);
  const open = (id: number) => {
    lastOpened = id;
    navigate(`/copies/${id}`);
  };
  const nextPage = () => {
    const next = page.data?.next;
    if (next == null) return;
    previous.set(`${filterKey}|${next}`, { before, page: pageNo ? pageNo + 1 : 0 });
    lastOpened = null;
    navigate(`/${listSearch(filter, String(next))}`);
  };
  const prevPage = () => {
    if (!before) return;
    lastOpened = null;
    navigate(`/${listSearch(filter, here?.before ?? '')}`);
  };

  // Keyboard: see keys.ts. Ignored while typing in a field or in a dialog.
  const keyState = useRef({ ids, cursor, checked, targets, canView: props.actions.view });
  keyState.current = { ids, cursor, checked, targets, canView: props.actions.view };
  // A layout effect, so the keys work from the first frame the list shows.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && isTypingTarget(e.target)) {
        (e.target as HTMLElement).blur();
        return;
      }
      if (isTypingTarget(e.target) || document.querySelector('[aria-modal="true"]')) return;
      const action = listKeyAction(e);
      if (!action) return;
      // Space and Enter on a focused button or link keep their own meaning.
      const t = e.target as HTMLElement | null;
      if ((e.key === ' ' || e.key === 'Enter') && t && (t.tagName === 'BUTTON' || t.tagName === 'A')) return;
      const s = keyState.current;
      switch (action) {
        case 'down':
        case 'up':
        case 'first':
        case 'last':
          setCursor(moveCursor(s.cursor, s.ids.length, action));
          break;
        case 'toggle':
          if (s.cursor >= 0 && s.cursor < s.ids.length) setChecked(toggle(s.checked, s.ids[s.cursor]));
          break;
        case 'toggle-all':
          setChecked(toggleAll(s.checked, s.ids));
          break;
        case 'open':
          if (!s.canView) return;
          if (s.cursor >= 0 && s.cursor < s.ids.length) open(s.ids[s.cursor]);
          break;
        case 'focus-filter':
          filterRef.current?.querySelector<HTMLInputElement>('[data-testid=filter-from]')?.focus();
          break;
        case 'next-page':
          document.querySelector<HTMLButtonElement>('[data-testid=next-page]:not([disabled])')?.click();
          break;
        case 'prev-page':
          document.querySelector<HTMLButtonElement>('[data-testid=prev-page]:not([disabled])')?.click();
          break;
      }
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const allChecked = ids.length > 0 && ids.every((id) => checked.has(id));
  const someChecked = ids.some((id) => checked.has(id));

  return (
    <section class="page page-list">
      <div ref={filterRef}>
        {props.mailboxes && props.mailboxes.length > 1 ? (
          <label class="field mailbox-switch">
            <span>Mailbox</span>
            <select
              data-testid="mailbox-switch"
              value={mailbox}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setCurrentMailbox(v);
                setMailbox(v);
                if (before) navigate(`/${listSearch(filter)}`);
              }}
            >
              {props.mailboxes.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <FilterBar filter={filter} onApply={apply} />
      </div>
      <div class="toolbar">
        <CopyActions
          ids={targets}
          actions={props.actions}
          notify={props.notify}
          onView={() => targets.length === 1 && open(targets[0])}
          onDeleted={() => page.reload()}
        />
        <span class="selection" data-testid="selection">
          {checked.size ? `${checked.size} marked` : targets.length ? '1 under cursor' : ''}
        </span>
        <span class="spacer" />
        <span class="keys" aria-hidden="true">
          <kbd>j</kbd>/<kbd>k</kbd> move <kbd>x</kbd> mark <kbd>Enter</kbd> view <kbd>/</kbd> filter <kbd>n</kbd>/<kbd>p</kbd> page
        </span>
        <label class="page-size">
          <select
            data-testid="page-size"
            value={pageSize}
            aria-label="Copies per page"
            onChange={(e) => {
              const n = Number(e.currentTarget.value);
              globalThis.localStorage?.setItem('mv.pageSize', String(n));
              setPageSize(n);
            }}
          >
            {PAGE_SIZES.map((n) => (
              <option value={n} key={n}>
                {n} / page
              </option>
            ))}
          </select>
        </label>
        <span class="page-no">{pageNo ? `Page ${pageNo}` : ''}</span>
        <button type="button" class="btn" data-testid="prev-page" disabled={!before} onClick={prevPage} title="Previous page (p)">
          ‹ Newer
        </button>
        <button
          type="button"
          class="btn"
          data-testid="next-page"
          disabled={page.data?.next == null}
          onClick={nextPage}
          title="Next page (n)"
        >
          Older ›
        </button>
      </div>
      {page.error ? (
        <ErrorState error={page.error} onRetry={page.reload} />
      ) : !page.data && page.loading ? (
        <div class="state state-loading" data-testid="loading">
          Loading…
        </div>
      ) : items.length === 0 ? (
        <EmptyState>
          {isEmptyFilter(filter) ? (
            before ? (
              <>
                No older copies. <Link href="/">Back to the newest</Link>
              </>
            ) : (
              'The Backup holds no copies yet.'
            )
          ) : (
            <>
              No copies match this filter.{' '}
              <Link href="/" data-testid="empty-reset">
                Clear the filter
              </Link>
            </>
          )}
        </EmptyState>
      ) : (
        <div class={page.loading ? 'table-wrap loading' : 'table-wrap'}>
          <table class="grid copies" data-testid="copy-table">
            <thead>
              <tr>
                <th class="col-check">
                  <input
                    type="checkbox"
                    data-testid="check-all"
                    aria-label="Mark all on this page"
                    checked={allChecked}
                    indeterminate={someChecked && !allChecked}
                    onChange={() => setChecked(toggleAll(checked, ids))}
                  />
                </th>
                <th class="col-time">Time placed</th>
                <th>From</th>
                <th>To</th>
                <th class="col-subject">Subject</th>
                <th class="num">Size</th>
                <th>Scan results</th>
                <th>Rule</th>
              </tr>
            </thead>
            <tbody ref={tableRef}>
              {items.map((c, i) => {
                const on = checked.has(c.id);
                const cls = [i === cursor ? 'cursor' : '', on ? 'checked' : ''].filter(Boolean).join(' ');
                return (
                  <tr
                    key={c.id}
                    class={cls}
                    data-testid={`copy-row-${c.id}`}
                    aria-selected={i === cursor}
                    onClick={() => setCursor(i)}
                    onDblClick={() => props.actions.view && open(c.id)}
                  >
                    <td class="col-check">
                      <input
                        type="checkbox"
                        data-testid={`copy-check-${c.id}`}
                        aria-label={`Mark copy ${c.id}`}
                        checked={on}
                        onClick={(e) => e.stopPropagation()}
                        onChange={() => {
                          setCursor(i);
                          setChecked((s) => toggle(s, c.id));
                        }}
                      />
                    </td>
                    <td class="mono col-time" title={formatTimeFull(c.placed_at)}>
                      {formatTime(c.placed_at)}
                    </td>
                    <td class="clip" title={displayText(fromText(c.from, c.mail_from))} data-testid={`copy-from-${c.id}`}>
                      <Shown value={fromText(c.from, c.mail_from)} />
                    </td>
                    <td class="clip" title={displayText(toText(c.to, c.rcpt))}>
                      <Shown value={toText(c.to, c.rcpt)} />
                    </td>
                    <td class="clip col-subject" title={displayText(c.subject)} data-testid={`copy-subject-${c.id}`}>
                      {props.actions.view ? (
                        <a
                          href={`/copies/${c.id}`}
                          data-testid={`copy-link-${c.id}`}
                          onClick={(e) => {
                            if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
                            e.preventDefault();
                            open(c.id);
                          }}
                        >
                          {c.subject ? <Shown value={c.subject} /> : <span class="none">(no subject)</span>}
                        </a>
                      ) : c.subject ? (
                        <Shown value={c.subject} />
                      ) : (
                        <span class="none">(no subject)</span>
                      )}
                    </td>
                    <td class="num mono">{formatBytes(c.size)}</td>
                    <td>
                      <StatusChips statuses={c.statuses} />
                    </td>
                    <td class="mono">
                      <Shown value={c.rule_id} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// The delivery queue: every release requested from the Backup, its state
// and the relay's last reply. Filter by state (and copy) in the URL; while
// something is queued or sending the page refreshes itself.

import { useEffect } from 'preact/hooks';
import { api } from './api';
import { formatTimeFull, formatTime } from './format';
import { navigate } from './router';
import { CursorTrail, readQuery, withQuery } from './query';
import type { DeliveryState } from './types';
import { displayText } from './display';
import { Shown } from './Shown';
import { EmptyState, ErrorState, Link, Loading, StateChip, useAsync } from './ui';

const STATES: DeliveryState[] = ['queued', 'sending', 'deferred', 'delivered', 'failed'];
const trail = new CursorTrail();
const REFRESH_MS = 5000;

export function Queue(props: { search: string }) {
  const q = readQuery(props.search, ['state', 'copy', 'before'] as const);
  const states = q.state.split(',').filter((s): s is DeliveryState => (STATES as string[]).includes(s));
  const stateParam = states.join(',');
  const base = { state: stateParam, copy: q.copy };
  const baseKey = withQuery('', base);
  const page = useAsync(() => api.deliveries({ ...base, limit: 100, before: q.before }), `${baseKey}|${q.before}`);

  const active = (page.data?.counts.queued ?? 0) + (page.data?.counts.sending ?? 0) > 0;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') page.reload();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [active]);

  const go = (params: { state?: string; copy?: string; before?: string }) =>
    navigate(withQuery('/queue', { ...base, before: '', ...params }));
  const toggleState = (s: DeliveryState) => {
    const next = states.includes(s) ? states.filter((x) => x !== s) : [...states, s];
    go({ state: STATES.filter((x) => next.includes(x)).join(',') });
  };

  const items = page.data?.items ?? [];
  return (
    <section class="page page-queue">
      <div class="toolbar">
        <h1>Delivery queue</h1>
        <div class="state-filter" role="group" aria-label="States">
          {STATES.map((s) => (
            <button
              type="button"
              key={s}
              class={states.includes(s) ? 'toggle on' : 'toggle'}
              aria-pressed={states.includes(s)}
              data-testid={`queue-state-${s}`}
              onClick={() => toggleState(s)}
            >
              <StateChip state={s} /> <span class="count">{page.data?.counts[s] ?? '·'}</span>
            </button>
          ))}
        </div>
        {q.copy ? (
          <span class="filter-tag">
            copy {q.copy}{' '}
            <button type="button" class="link" data-testid="queue-copy-clear" onClick={() => go({ copy: '' })}>
              ×
            </button>
          </span>
        ) : null}
        <span class="spacer" />
        <button type="button" class="btn" data-testid="queue-refresh" onClick={page.reload}>
          Refresh
        </button>
        <button
          type="button"
          class="btn"
          data-testid="prev-page"
          disabled={!q.before}
          onClick={() => go({ before: trail.before(baseKey, q.before) })}
        >
          ‹ Newer
        </button>
        <button
          type="button"
          class="btn"
          data-testid="next-page"
          disabled={page.data?.next == null}
          onClick={() => {
            const next = String(page.data?.next);
            trail.remember(baseKey, next, q.before);
            go({ before: next });
          }}
        >
          Older ›
        </button>
      </div>
      {page.error ? (
        <ErrorState error={page.error} onRetry={page.reload} />
      ) : !page.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <EmptyState>{states.length || q.copy ? 'No deliveries in these states.' : 'Nothing has been delivered from the Backup yet.'}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="grid" data-testid="queue-table">
            <thead>
              <tr>
                <th class="num">ID</th>
                <th class="num">Request</th>
                <th class="num">Copy</th>
                <th>Recipient</th>
                <th>State</th>
                <th class="num">Tries</th>
                <th>Last reply</th>
                <th>Format</th>
                <th>Requested</th>
                <th>By</th>
                <th>Next try</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} data-testid={`queue-row-${e.id}`}>
                  <td class="num mono">{e.id}</td>
                  <td class="num mono">{e.request}</td>
                  <td class="num mono">
                    <Link href={`/copies/${e.copy_id}`}>{e.copy_id}</Link>
                  </td>
                  <td class="mono clip" title={displayText(e.rcpt)}>
                    <Shown value={e.rcpt} />
                    {e.original ? null : <span class="tag" title="Not an original recipient">added</span>}
                  </td>
                  <td>
                    <StateChip state={e.state} />
                  </td>
                  <td class="num mono">{e.attempts}</td>
                  <td class="mono clip reply" title={displayText(e.last_reply)}>
                    <Shown value={e.last_reply} />
                  </td>
                  <td>
                    {e.format}
                    {e.remove_message_id ? ', no Message-ID' : ''}
                  </td>
                  <td class="mono" title={formatTimeFull(e.created_at)}>
                    {formatTime(e.created_at)}
                  </td>
                  <td>
                    <Shown value={e.requested_by} />
                  </td>
                  <td class="mono" title={formatTimeFull(e.next_attempt_at)}>
                    {e.state === 'queued' || e.state === 'deferred' ? formatTime(e.next_attempt_at) : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

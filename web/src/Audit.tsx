// The audit log: who did what to which copy, when, and whether it was
// allowed. Filters live in the URL; the same filter exports as NDJSON.

import { useEffect, useState } from 'preact/hooks';
import { api, startDownload, urls } from './api';
import { localTimeToApi } from './filter';
import { formatTime, formatTimeFull } from './format';
import { navigate } from './router';
import { CursorTrail, readQuery, withQuery } from './query';
import { displayText } from './display';
import { Shown } from './Shown';
import { EmptyState, ErrorState, Link, Loading, StateChip, useAsync } from './ui';

const ACTIONS = ['login', 'logout', 'search', 'view', 'preview', 'save', 'deliver', 'delete', 'settings', 'queue', 'audit', 'usage'];
const RESULTS = ['ok', 'denied', 'failed', 'error'];
const KEYS = ['account', 'action', 'copy', 'result', 'since', 'until'] as const;
type AuditFilter = Record<(typeof KEYS)[number], string>;
const trail = new CursorTrail();

function apiParams(f: AuditFilter) {
  return { ...f, since: f.since && localTimeToApi(f.since), until: f.until && localTimeToApi(f.until) };
}

export function Audit(props: { search: string }) {
  const q = readQuery(props.search, [...KEYS, 'before'] as const);
  const { before, ...rest } = q;
  const filter: AuditFilter = rest;
  const baseKey = withQuery('', filter);
  const page = useAsync(() => api.audit({ ...apiParams(filter), limit: 100, before }), `${baseKey}|${before}`);
  const [draft, setDraft] = useState<AuditFilter>(filter);
  useEffect(() => setDraft(filter), [baseKey]);

  const set = (k: keyof AuditFilter, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const go = (f: AuditFilter, cursor = '') => navigate(withQuery('/audit', { ...f, before: cursor }));
  const items = page.data?.items ?? [];
  const empty = Object.values(filter).every((v) => !v);

  return (
    <section class="page page-audit">
      <form
        class="filter"
        data-testid="audit-filter"
        onSubmit={(e) => {
          e.preventDefault();
          go(draft);
        }}
      >
        <div class="filter-row">
          <label class="field">
            <span>Account</span>
            <input type="search" data-testid="audit-account" value={draft.account} onInput={(e) => set('account', e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Action</span>
            <select data-testid="audit-action" value={draft.action} onChange={(e) => set('action', e.currentTarget.value)}>
              <option value="">Any</option>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
          <label class="field field-num">
            <span>Copy ID</span>
            <input type="text" inputMode="numeric" data-testid="audit-copy" value={draft.copy} onInput={(e) => set('copy', e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Result</span>
            <select data-testid="audit-result" value={draft.result} onChange={(e) => set('result', e.currentTarget.value)}>
              <option value="">Any</option>
              {RESULTS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <label class="field field-time">
            <span>From time</span>
            <input type="datetime-local" data-testid="audit-since" value={draft.since} onInput={(e) => set('since', e.currentTarget.value)} />
          </label>
          <label class="field field-time">
            <span>To time</span>
            <input type="datetime-local" data-testid="audit-until" value={draft.until} onInput={(e) => set('until', e.currentTarget.value)} />
          </label>
          <div class="filter-buttons">
            <button type="submit" class="btn btn-primary" data-testid="audit-apply">
              Find
            </button>
            <button type="button" class="btn" data-testid="audit-reset" onClick={() => go({ account: '', action: '', copy: '', result: '', since: '', until: '' })}>
              Reset
            </button>
            <button type="button" class="btn" data-testid="audit-export" title="Download as NDJSON" onClick={() => startDownload(urls.auditExport(apiParams(filter)))}>
              Export
            </button>
          </div>
        </div>
      </form>
      <div class="toolbar">
        <h1>Audit log</h1>
        <span class="spacer" />
        <button type="button" class="btn" data-testid="prev-page" disabled={!before} onClick={() => go(filter, trail.before(baseKey, before))}>
          ‹ Newer
        </button>
        <button
          type="button"
          class="btn"
          data-testid="next-page"
          disabled={page.data?.next == null}
          onClick={() => {
            const next = String(page.data?.next);
            trail.remember(baseKey, next, before);
            go(filter, next);
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
        <EmptyState>{empty ? 'The audit log is empty.' : 'No audit records match this filter.'}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="grid" data-testid="audit-table">
            <thead>
              <tr>
                <th class="col-time">Time</th>
                <th>Account</th>
                <th>Role</th>
                <th>Client</th>
                <th>Action</th>
                <th>Copies</th>
                <th>Result</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} data-testid={`audit-row-${r.id}`}>
                  <td class="mono col-time" title={formatTimeFull(r.at)}>
                    {formatTime(r.at)}
                  </td>
                  <td>
                    <Shown value={r.account} />
                  </td>
                  <td>
                    <Shown value={r.role} />
                  </td>
                  <td class="mono">
                    <Shown value={r.client} />
                  </td>
                  <td>
                    <Shown value={r.action} />
                  </td>
                  <td class="mono clip">
                    {(r.copy_ids ?? []).slice(0, 5).map((id, i) => (
                      <>
                        {i ? ', ' : ''}
                        <Link href={`/copies/${id}`}>{id}</Link>
                      </>
                    ))}
                    {(r.copy_ids ?? []).length > 5 ? ` +${r.copy_ids.length - 5}` : ''}
                  </td>
                  <td>
                    <StateChip state={r.result} />
                  </td>
                  <td class="clip" title={displayText(r.detail)} data-testid="audit-detail">
                    <Shown value={r.detail} />
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

// Store usage: a header widget (used / maximum, with a meter) on every
// page, and the page with the details.

import { api } from './api';
import { formatBytes, formatCount, formatTimeFull } from './format';
import type { Usage } from './types';
import { ErrorState, Link, Loading, useAsync } from './ui';

export function usageLevel(u: Pick<Usage, 'bytes' | 'max_bytes'>): 'ok' | 'warn' | 'bad' {
  if (!u.max_bytes) return 'ok';
  const r = u.bytes / u.max_bytes;
  return r >= 0.95 ? 'bad' : r >= 0.8 ? 'warn' : 'ok';
}

// `refreshKey` changes on navigation, so the numbers stay current.
export function UsageWidget(props: { refreshKey: string }) {
  const u = useAsync(() => api.usage(), props.refreshKey);
  if (!u.data) return <span class="usage-widget" data-testid="usage" />;
  const d = u.data;
  return (
    <>
    {d.unavailable_since && (
      <span class="usage-widget usage-bad" data-testid="backup-unavailable" role="alert">
        Backup unavailable since {formatTimeFull(d.unavailable_since)}: copies are refused
      </span>
    )}
    <Link href="/usage" class={`usage-widget usage-${usageLevel(d)}`} data-testid="usage" title={`${formatCount(d.copies)} copies`}>
      <meter min={0} max={d.max_bytes || 1} value={d.bytes} high={(d.max_bytes || 1) * 0.8} optimum={0} />
      <span data-testid="usage-text">
        {formatBytes(d.bytes)} / {formatBytes(d.max_bytes)}
      </span>
    </Link>
    </>
  );
}

export function UsagePage() {
  const u = useAsync(() => api.usage(), 'usage-page');
  if (u.error) return <ErrorState error={u.error} onRetry={u.reload} />;
  if (!u.data) return <Loading />;
  const d = u.data;
  const pct = d.max_bytes ? Math.min(100, (d.bytes / d.max_bytes) * 100) : 0;
  return (
    <section class="page page-usage" data-testid="usage-page">
      <h1>Store usage</h1>
      <div class={`usage-big usage-${usageLevel(d)}`}>
        <meter min={0} max={d.max_bytes || 1} value={d.bytes} high={(d.max_bytes || 1) * 0.8} optimum={0} />
        <span>
          <b data-testid="usage-used">{formatBytes(d.bytes)}</b> used of <b data-testid="usage-max">{formatBytes(d.max_bytes)}</b> ({pct.toFixed(1)}%)
        </span>
      </div>
      <dl class="fields narrow">
        <dt>Copies</dt>
        <dd class="mono">{formatCount(d.copies)}</dd>
        <dt>Store size</dt>
        <dd class="mono">{formatBytes(d.bytes)}</dd>
        <dt>Of which messages</dt>
        <dd class="mono">{formatBytes(d.message_bytes)}</dd>
        <dt>Maximum</dt>
        <dd class="mono">{formatBytes(d.max_bytes)}</dd>
        <dt>Free disk space</dt>
        <dd class="mono">{formatBytes(d.free_bytes)}</dd>
        <dt>Segments</dt>
        <dd class="mono">{formatCount(d.segments)}</dd>
        <dt>Oldest copy</dt>
        <dd class="mono">{formatTimeFull(d.oldest)}</dd>
        <dt>Newest copy</dt>
        <dd class="mono">{formatTimeFull(d.newest)}</dd>
      </dl>
      <p class="note">When the store grows past the maximum, the oldest copies are removed first.</p>
    </section>
  );
}

// One copy: every field the index keeps, the per-engine results, the
// attachments, and the preview. The text preview is always offered (to
// roles with "preview"); the HTML preview only as a sandboxed iframe of the
// server's sanitized document: no scripts, an opaque origin, remote
// images removed by the server.

import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';
import { api, urls } from './api';
import { CopyActions } from './CopyActions';
import { sortedStatuses } from './CopyList';
import { ENGINES } from './filter';
import { addressText, formatBytes, formatTimeFull } from './format';
import { isTypingTarget } from './keys';
import type { ListActions } from './perms';
import { listUrl, navigate } from './router';
import type { Copy } from './types';
import { displayText } from './display';
import { ExtensionBadge, Shown } from './Shown';
import { ErrorState, Link, Loading, StatusChip, useAsync, type Notify } from './ui';

const KNOWN = new Set([
  'id', 'placed_at', 'received_at', 'sent_at', 'mail_from', 'rcpt', 'from', 'to', 'cc', 'bcc', 'subject',
  'message_id', 'queue_id', 'size', 'rule_id', 'statuses', 'reason', 'attachments',
  'possible_duplicates',
]);
const ENGINE_LABEL = new Map<string, string>(ENGINES.map((e) => [e.id, e.label]));

// Fields a newer server may add (anti-virus database date, black/white
// listing user, ...): shown as they come, so nothing the server knows is
// hidden from the viewer.
export function extraFields(copy: Copy): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(copy)) {
    if (KNOWN.has(k) || v == null || v === '') continue;
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    const label = k.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
    out.push([label, text]);
  }
  return out;
}

// A field's value is text from the message or the server: shown through
// <Shown> (isolated, hidden characters as tokens); `children` is for values
// the console formats itself (times, sizes).
function Row(props: { label: string; value?: string | null; children?: ComponentChildren; mono?: boolean; testid?: string }) {
  const content = props.value ? <Shown value={props.value} /> : props.children;
  return (
    <>
      <dt>{props.label}</dt>
      <dd class={props.mono ? 'mono' : undefined} data-testid={props.testid}>
        {content || <span class="none">—</span>}
      </dd>
    </>
  );
}

function Preview({ id }: { id: number }) {
  const text = useAsync(() => api.text(id), String(id));
  const [tab, setTab] = useState<'text' | 'html'>(
    () => (globalThis.localStorage?.getItem('mv.previewTab') as 'html' | null) ?? 'text',
  );
  const html = !!text.data?.has_html && !!text.data?.html_allowed;
  const show = tab === 'html' && html ? 'html' : 'text';
  const pick = (t: 'text' | 'html') => {
    setTab(t);
    globalThis.localStorage?.setItem('mv.previewTab', t);
  };
  return (
    <section class="preview" data-testid="preview">
      <div class="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={show === 'text'}
          class={show === 'text' ? 'tab active' : 'tab'}
          data-testid="preview-tab-text"
          onClick={() => pick('text')}
        >
          Text
        </button>
        {html ? (
          <button
            type="button"
            role="tab"
            aria-selected={show === 'html'}
            class={show === 'html' ? 'tab active' : 'tab'}
            data-testid="preview-tab-html"
            onClick={() => pick('html')}
          >
            HTML
          </button>
        ) : text.data?.has_html ? (
          <span class="tab-note">HTML preview is turned off in the settings</span>
        ) : null}
      </div>
      {text.error ? (
        <ErrorState error={text.error} onRetry={text.reload} />
      ) : !text.data ? (
        <Loading />
      ) : show === 'html' ? (
        <>
          <p class="note" data-testid="remote-images-note">
            Remote images are blocked. Scripts do not run.
          </p>
          <iframe
            class="preview-html"
            data-testid="preview-html"
            title="HTML preview"
            sandbox=""
            referrerpolicy="no-referrer"
            src={urls.html(id)}
          />
        </>
      ) : (
        <>
          <pre class="preview-text" data-testid="preview-text">
            {text.data.text}
          </pre>
          {text.data.truncated ? <p class="note">The preview is cut short; save the message to see all of it.</p> : null}
        </>
      )}
    </section>
  );
}

export function CopyView(props: { id: number; actions: ListActions; notify: Notify }) {
  const copy = useAsync(() => api.copy(props.id), String(props.id));
  const back = listUrl();

  // Esc or u: back to the list, as the keyboard user came (from the first
  // frame: a layout effect).
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTypingTarget(e.target) || document.querySelector('[aria-modal="true"]')) return;
      if ((e.key === 'Escape' || e.key === 'u') && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        navigate(back);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [back]);

  const toolbar = (
    <div class="toolbar">
      <Link href={back} class="btn" data-testid="back-to-list">
        ← To messages list
      </Link>
      {copy.data ? (
        <CopyActions
          ids={[props.id]}
          actions={props.actions}
          notify={props.notify}
          onDeleted={() => navigate(back)}
        />
      ) : null}
    </div>
  );

  if (copy.error || !copy.data) {
    return (
      <section class="page page-copy">
        {toolbar}
        {copy.error ? <ErrorState error={copy.error} onRetry={copy.reload} /> : <Loading />}
      </section>
    );
  }
  const c = copy.data;
  const statuses = sortedStatuses(c.statuses);
  return (
    <section class="page page-copy" data-testid="copy-view">
      {toolbar}
      <h1 class="subject" data-testid="copy-subject">
        {c.subject ? <Shown value={c.subject} /> : <span class="none">(no subject)</span>}
      </h1>
      <div class="copy-grid">
        <dl class="fields" data-testid="copy-fields">
          <Row label="Processing rule" mono value={c.rule_id} />
          <Row label="From" value={addressText(c.from)} testid="field-from" />
          <Row label="To" value={addressText(c.to)} testid="field-to" />
          <Row label="Cc" value={addressText(c.cc)} />
          <Row label="Bcc" value={addressText(c.bcc)} />
          <Row label="Envelope sender" mono value={c.mail_from} />
          <Row label="Envelope recipients" mono value={(c.rcpt ?? []).join(', ')} />
          <Row label="Backup reason" value={c.reason} />
          <Row label="Time placed" mono>{formatTimeFull(c.placed_at)}</Row>
          <Row label="Time sent" mono>{c.sent_at ? formatTimeFull(c.sent_at) : ''}</Row>
          <Row label="Time received" mono>{c.received_at ? formatTimeFull(c.received_at) : ''}</Row>
          <Row label="Message-ID" mono value={c.message_id} />
          <Row label="MTA queue ID" mono value={c.queue_id} />
          <Row label="Size" mono>{`${formatBytes(c.size)} (${c.size.toLocaleString('en-US')} bytes)`}</Row>
          <Row label="Copy ID" mono>{String(c.id)}</Row>
          {(c.possible_duplicates ?? []).length > 0 && (
            <Row label="Possible duplicate">
              <span data-testid="possible-duplicates">
                {(c.possible_duplicates ?? []).map((d, i) => (
                  <span key={d}>
                    {i > 0 ? ', ' : ''}Possible duplicate of <Link href={`/copies/${d}`}>#{d}</Link>
                  </span>
                ))}
              </span>
            </Row>
          )}
          {extraFields(c).map(([k, v]) => (
            <Row label={displayText(k)} key={k} value={v} />
          ))}
        </dl>
        <div class="side">
          <h2>Scan results</h2>
          {statuses.length ? (
            <table class="grid compact" data-testid="scan-results">
              <tbody>
                {statuses.map(([engine, label]) => (
                  <tr key={engine} data-testid={`scan-${engine}`}>
                    <th>
                      <Shown value={ENGINE_LABEL.get(engine) ?? engine} />
                    </th>
                    <td>
                      <StatusChip label={label} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="none">No engine results recorded.</p>
          )}
          <h2>Attachments</h2>
          {c.attachments?.length ? (
            <table class="grid compact" data-testid="attachments">
              <thead>
                <tr>
                  <th>Name</th>
                  <th title="The real last extension of the file name">Extension</th>
                  <th>Type</th>
                  <th class="num">Size</th>
                </tr>
              </thead>
              <tbody>
                {c.attachments.map((a, i) => (
                  <tr key={i} data-testid={`attachment-${i}`}>
                    <td class="clip" title={displayText(a.name)} data-testid="attachment-name">
                      {a.name ? <Shown value={a.name} /> : <span class="none">(no name)</span>}
                    </td>
                    <td>
                      <ExtensionBadge name={a.name} />
                    </td>
                    <td class="mono">
                      <Shown value={a.type} />
                    </td>
                    <td class="num mono">{formatBytes(a.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="none" data-testid="attachments">No attachments.</p>
          )}
        </div>
      </div>
      {props.actions.preview ? <Preview id={c.id} /> : null}
    </section>
  );
}

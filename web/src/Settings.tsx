// The settings window: the Backup's size cap, the free-space notification,
// delivery of infected copies, what to do when the Backup is unavailable,
// and the HTML preview. Read-only for roles without settings_write.

import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { PERSONAL_FLAGS, formFromSettings, settingsUpdate, type SettingsForm } from './settings';
import type { UnavailableAction } from './types';
import { ErrorState, Loading, errorMessage, useAsync } from './ui';

export function SettingsPage(props: { canWrite: boolean }) {
  const loaded = useAsync(() => api.settings(), 'settings');
  const [base, setBase] = useState<SettingsForm | null>(null);
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);

  useEffect(() => {
    if (!loaded.data) return;
    const f = formFromSettings(loaded.data);
    setBase(f);
    setForm(f);
  }, [loaded.data]);

  if (loaded.error) return <ErrorState error={loaded.error} onRetry={loaded.reload} />;
  if (!form || !base) return <Loading />;

  const set = <K extends keyof SettingsForm>(k: K, v: SettingsForm[K]) => {
    setForm({ ...form, [k]: v });
    setMessage(null);
  };
  const ro = !props.canWrite;
  const save = async (e: Event) => {
    e.preventDefault();
    const r = settingsUpdate(base, form);
    if (r.error !== null) {
      setMessage({ text: r.error, kind: 'error' });
      return;
    }
    if (Object.keys(r.update).length === 0) {
      setMessage({ text: 'Nothing changed', kind: 'ok' });
      return;
    }
    setBusy(true);
    try {
      const saved = await api.putSettings(r.update);
      const f = formFromSettings(saved);
      setBase(f);
      setForm(f);
      setWarnings(saved.warnings ?? []);
      setMessage({ text: 'Settings saved', kind: 'ok' });
    } catch (err) {
      setMessage({ text: errorMessage(err), kind: 'error' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page page-settings">
      <h1>Settings</h1>
      <form class="form settings" data-testid="settings-form" onSubmit={save}>
        <fieldset disabled={ro}>
          <label class="field">
            <span>Maximum Backup size</span>
            <input type="text" data-testid="settings-max-size" value={form.maxSize} onInput={(e) => set('maxSize', e.currentTarget.value)} />
            <small>When the store is larger, the oldest copies are removed. Sizes such as 7.32GB, 500MB.</small>
          </label>
          <label class="field">
            <span>Notify when free disk space is below</span>
            <input
              type="text"
              data-testid="settings-notify-free-below"
              value={form.notifyFreeBelow}
              onInput={(e) => set('notifyFreeBelow', e.currentTarget.value)}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              data-testid="settings-allow-infected-delivery"
              checked={form.allowInfected}
              onChange={(e) => set('allowInfected', e.currentTarget.checked)}
            />
            Allow delivery of infected messages
          </label>
          <label class="field">
            <span>If the Backup is unavailable</span>
            <select
              data-testid="settings-unavailable-action"
              value={form.unavailable}
              onChange={(e) => set('unavailable', e.currentTarget.value as UnavailableAction)}
            >
              <option value="process">Process messages</option>
              <option value="tempfail">Temporary fail (4xx)</option>
              <option value="reject">Reject messages (5xx)</option>
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              data-testid="settings-html-preview"
              checked={form.htmlPreview}
              onChange={(e) => set('htmlPreview', e.currentTarget.checked)}
            />
            HTML preview of messages (sanitized, sandboxed, remote images blocked)
          </label>
        </fieldset>
        {Object.keys(form.personal).length ? (
          <fieldset data-testid="settings-personal">
            <legend>Personal accounts — Backup</legend>
            {PERSONAL_FLAGS.map((f) => (
              <label class="check" key={f.key}>
                <input
                  type="checkbox"
                  data-testid={`set-${f.key.replace('.', '-')}`}
                  disabled={ro}
                  checked={!!form.personal[f.key]}
                  onChange={(e) => set('personal', { ...form.personal, [f.key]: e.currentTarget.checked })}
                />
                {f.label}
              </label>
            ))}
            <label class="field">
              <span>Delivery format</span>
              <select
                data-testid="set-personal-delivery_format"
                disabled={ro}
                value={form.personalFormat}
                onChange={(e) => set('personalFormat', e.currentTarget.value)}
              >
                <option value="as-attachment">As an attachment</option>
                <option value="as-is">As is</option>
              </select>
            </label>
          </fieldset>
        ) : null}
        {warnings.length ? (
          <ul class="warnings" data-testid="settings-warnings">
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        ) : null}
        {message ? (
          <div class={message.kind === 'ok' ? 'form-ok' : 'form-error'} data-testid="settings-message" role="status">
            {message.text}
          </div>
        ) : null}
        {ro ? (
          <p class="note" data-testid="settings-readonly">
            Your role can read the settings but not change them.
          </p>
        ) : (
          <div class="dialog-buttons left">
            <button type="submit" class="btn btn-primary" data-testid="settings-save" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
            <button
              type="button"
              class="btn"
              data-testid="settings-revert"
              onClick={() => {
                setForm(base);
                setMessage(null);
              }}
            >
              Revert
            </button>
          </div>
        )}
      </form>
    </section>
  );
}

// The Backup list's search filter. Edits stay in the form until Apply (or
// Enter in any field), which puts the filter into the URL; the list reads it
// from there. Typing a start or end picks the custom period.

import { useEffect, useState } from 'preact/hooks';
import { EMPTY_FILTER, ENGINES, PERIODS, type EngineId, type Filter, type Period, validateFilter } from './filter';

export function FilterBar(props: { filter: Filter; onApply: (f: Filter) => void }) {
  const [draft, setDraft] = useState<Filter>(props.filter);
  const [error, setError] = useState('');
  // A new URL (back/forward, a link) replaces what the form shows.
  useEffect(() => {
    setDraft(props.filter);
    setError('');
  }, [JSON.stringify(props.filter)]);

  const set = <K extends keyof Filter>(k: K, v: Filter[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const text = (k: 'from' | 'to' | 'subject' | 'messageId' | 'rule', label: string, testid: string, placeholder: string) => (
    <label class="field">
      <span>{label}</span>
      <input
        type="search"
        data-testid={testid}
        value={draft[k]}
        placeholder={placeholder}
        spellcheck={false}
        autocomplete="off"
        onInput={(e) => set(k, e.currentTarget.value)}
      />
    </label>
  );

  const setPeriod = (p: Period) =>
    setDraft((d) => (p === 'custom' ? { ...d, period: p } : { ...d, period: p, since: '', until: '' }));
  const setTime = (k: 'since' | 'until', v: string) => setDraft((d) => ({ ...d, [k]: v, period: 'custom' }));
  const toggleEngine = (id: EngineId, on: boolean) =>
    setDraft((d) => ({ ...d, engines: on ? [...d.engines, id] : d.engines.filter((e) => e !== id) }));

  const apply = (e: Event) => {
    e.preventDefault();
    const problem = validateFilter(draft);
    setError(problem ?? '');
    if (problem) return;
    // Back to the list's keys (j/k, x, Enter) right after searching.
    (document.activeElement as HTMLElement | null)?.blur?.();
    props.onApply(draft);
  };
  const reset = () => {
    setDraft({ ...EMPTY_FILTER, engines: [] });
    setError('');
    props.onApply({ ...EMPTY_FILTER, engines: [] });
  };

  return (
    <form class="filter" data-testid="filter" onSubmit={apply} role="search">
      <div class="filter-row">
        {text('from', 'From', 'filter-from', 'substring')}
        {text('to', 'To', 'filter-to', 'substring')}
        {text('subject', 'Subject', 'filter-subject', 'substring')}
        {text('messageId', 'Message-ID', 'filter-message-id', 'substring')}
        {text('rule', 'Rule ID', 'filter-rule', 'exact')}
      </div>
      <div class="filter-row">
        <label class="field">
          <span>Period</span>
          <select data-testid="filter-period" value={draft.period} onChange={(e) => setPeriod(e.currentTarget.value as Period)}>
            {PERIODS.map((p) => (
              <option value={p.id} key={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        <label class="field field-time">
          <span>From time</span>
          <input
            type="datetime-local"
            data-testid="filter-since"
            value={draft.since}
            onInput={(e) => setTime('since', e.currentTarget.value)}
          />
        </label>
        <label class="field field-time">
          <span>To time</span>
          <input
            type="datetime-local"
            data-testid="filter-until"
            value={draft.until}
            onInput={(e) => setTime('until', e.currentTarget.value)}
          />
        </label>
        <label class="field field-num">
          <span>Size ≥ KB</span>
          <input
            type="text"
            inputMode="numeric"
            data-testid="filter-size-ge"
            value={draft.sizeGeKb}
            onInput={(e) => set('sizeGeKb', e.currentTarget.value)}
          />
        </label>
        <label class="field field-num">
          <span>Size ≤ KB</span>
          <input
            type="text"
            inputMode="numeric"
            data-testid="filter-size-le"
            value={draft.sizeLeKb}
            onInput={(e) => set('sizeLeKb', e.currentTarget.value)}
          />
        </label>
        <fieldset class="engines">
          <legend>Scan type</legend>
          {ENGINES.map((eng) => (
            <label class="check" key={eng.id} title={eng.label}>
              <input
                type="checkbox"
                data-testid={`filter-engine-${eng.id}`}
                checked={draft.engines.includes(eng.id)}
                onChange={(e) => toggleEngine(eng.id, e.currentTarget.checked)}
              />
              {eng.label}
            </label>
          ))}
        </fieldset>
        <div class="filter-buttons">
          <button type="submit" class="btn btn-primary" data-testid="filter-apply">
            Find
          </button>
          <button type="button" class="btn" data-testid="filter-reset" onClick={reset}>
            Reset
          </button>
        </div>
      </div>
      {error ? (
        <div class="form-error" data-testid="filter-error" role="alert">
          {error}
        </div>
      ) : null}
    </form>
  );
}

// The Deliver / View / Save / Delete buttons, shared by the list (acting on
// the checked copies) and the message view (acting on the one shown). Only
// the buttons the role has are rendered.

import { useState } from 'preact/hooks';
import { api, saveUrl, startDownload } from './api';
import { DeliverDialog } from './DeliverDialog';
import type { ListActions } from './perms';
import { ConfirmDialog, errorMessage, type Notify } from './ui';

export function CopyActions(props: {
  ids: number[];
  actions: ListActions;
  notify: Notify;
  onView?: () => void; // the list only
  onDeleted: (ids: number[]) => void;
}) {
  const [dialog, setDialog] = useState<'deliver' | 'delete' | null>(null);
  const [busy, setBusy] = useState(false);
  const { ids, actions } = props;
  const n = ids.length;
  const none = n === 0;

  const save = () => {
    const url = saveUrl(ids);
    if (url) startDownload(url);
  };

  const del = async () => {
    setBusy(true);
    try {
      const answer = await api.deleteCopies(ids);
      setDialog(null);
      props.notify({ text: answer.message || 'Marked messages have been deleted', kind: 'ok' });
      props.onDeleted(ids);
    } catch (e) {
      setDialog(null);
      props.notify({ text: errorMessage(e), kind: 'error' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="actions" data-testid="actions">
      {actions.deliver ? (
        <button type="button" class="btn" data-testid="btn-deliver" disabled={none} onClick={() => setDialog('deliver')}>
          Deliver
        </button>
      ) : null}
      {props.onView && actions.view ? (
        <button type="button" class="btn" data-testid="btn-view" disabled={n !== 1} onClick={props.onView}>
          View
        </button>
      ) : null}
      {actions.save ? (
        <button
          type="button"
          class="btn"
          data-testid="btn-save"
          disabled={none}
          title={n > 1 ? 'Save as one mbox archive' : 'Save as .eml'}
          onClick={save}
        >
          Save
        </button>
      ) : null}
      {actions.delete ? (
        <button
          type="button"
          class="btn btn-danger-quiet"
          data-testid="btn-delete"
          disabled={none}
          onClick={() => setDialog('delete')}
        >
          Delete
        </button>
      ) : null}
      {dialog === 'deliver' ? (
        <DeliverDialog
          ids={ids}
          allowOther={actions.deliverOther}
          personal={actions.personal}
          onCancel={() => setDialog(null)}
          onDone={(answer) => {
            setDialog(null);
            props.notify({ text: answer.message || 'The message has been placed in the queue for delivery', kind: 'ok' });
          }}
        />
      ) : null}
      {dialog === 'delete' ? (
        <ConfirmDialog
          title={n === 1 ? 'Delete the message?' : `Delete ${n} messages?`}
          message={
            n === 1
              ? 'The copy is removed from the Backup. This cannot be undone.'
              : `The ${n} marked copies are removed from the Backup. This cannot be undone.`
          }
          okLabel="Delete"
          danger
          busy={busy}
          onOk={del}
          onCancel={() => setDialog(null)}
        />
      ) : null}
    </div>
  );
}

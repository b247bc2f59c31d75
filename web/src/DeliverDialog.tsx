// The Deliver dialog: send copies to their original recipients and/or
// other addresses, as they are (optionally without Message-ID) or wrapped as
// an attachment. The server queues them (POST /api/v1/deliveries); the
// answer's message becomes the page's banner.

import { useState } from 'preact/hooks';
import { api } from './api';
import { parseAddressList } from './format';
import { currentMailbox, personalDelivery } from './personal';
import type { DeliveryAnswer, DeliveryFormat } from './types';
import { Shown } from './Shown';
import { Modal, errorMessage } from './ui';

export function DeliverDialog(props: {
  ids: number[];
  allowOther: boolean;
  // A personal user: to their own mailbox only, in the administrator's
  // format; the dialog only confirms.
  personal?: boolean;
  onDone: (answer: DeliveryAnswer) => void;
  onCancel: () => void;
}) {
  const [original, setOriginal] = useState(true);
  const [to, setTo] = useState('');
  const [format, setFormat] = useState<DeliveryFormat>('as-is');
  const [removeId, setRemoveId] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const submit = async (e: Event) => {
    e.preventDefault();
    const { addresses, bad } = props.allowOther ? parseAddressList(to) : { addresses: [], bad: [] };
    if (bad.length) {
      setError(`Not an address: ${bad.join(', ')}`);
      return;
    }
    if (!original && addresses.length === 0) {
      setError('Choose the original recipients or give at least one address');
      return;
    }
    setBusy(true);
    setError('');
    if (props.personal) {
      try {
        props.onDone(await api.deliverPersonal(personalDelivery(props.ids, currentMailbox())));
      } catch (err) {
        setError(errorMessage(err));
        setBusy(false);
      }
      return;
    }
    try {
      const answer = await api.deliver({
        ids: props.ids,
        original,
        to: addresses,
        format,
        remove_message_id: format === 'as-is' && removeId,
      });
      props.onDone(answer);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const n = props.ids.length;
  return (
    <Modal title={n === 1 ? 'Deliver the message' : `Deliver ${n} messages`} testid="deliver-dialog" onClose={props.onCancel}>
      <form onSubmit={submit} class="form">
        {props.personal ? (
          <p data-testid="deliver-personal">
            {currentMailbox()
              ? `The message is delivered to ${currentMailbox()}.`
              : 'The message is delivered to your mailbox it was addressed to.'}
          </p>
        ) : null}
        {props.personal ? null : (
        <>
        <label class="check">
          <input
            type="checkbox"
            data-testid="deliver-original"
            checked={original}
            onChange={(e) => setOriginal(e.currentTarget.checked)}
          />
          To the original recipients
        </label>
        {props.allowOther ? (
          <label class="field">
            <span>Also to these addresses</span>
            <textarea
              data-testid="deliver-to"
              rows={2}
              placeholder="name@example.com, other@example.org"
              value={to}
              onInput={(e) => setTo(e.currentTarget.value)}
            />
          </label>
        ) : null}
        <label class="field">
          <span>Format</span>
          <select
            data-testid="deliver-format"
            value={format}
            onChange={(e) => setFormat(e.currentTarget.value as DeliveryFormat)}
          >
            <option value="as-is">As is</option>
            <option value="as-attachment">As an attachment</option>
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            data-testid="deliver-remove-message-id"
            checked={removeId && format === 'as-is'}
            disabled={format !== 'as-is'}
            onChange={(e) => setRemoveId(e.currentTarget.checked)}
          />
          Without the Message-ID header
        </label>
        </>
        )}
        {error ? (
          <div class="form-error" data-testid="deliver-error" role="alert">
            <Shown value={error} />
          </div>
        ) : null}
        <div class="dialog-buttons">
          <button type="button" class="btn" data-testid="deliver-cancel" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="deliver-submit" disabled={busy}>
            {busy ? 'Queueing…' : 'Deliver'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

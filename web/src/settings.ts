// The settings form's pure half: the form state from the server's
// settings, and the PUT body from what changed (sizes are sent only when
// their text changed, since the form shows them rounded).

import { formatSizeInput, parseSizeInput, sizeInputBytes } from './format';
import type { PersonalFlagKey, Settings, SettingsUpdate, UnavailableAction } from './types';

export const PERSONAL_FLAGS: ReadonlyArray<{ key: PersonalFlagKey; label: string }> = [
  { key: 'personal.backup', label: 'Personal Backup (users see the copies addressed to them)' },
  { key: 'personal.preview', label: 'Preview messages (HTML only where Anti-Virus found nothing)' },
  { key: 'personal.delete', label: 'Delete messages' },
  { key: 'personal.send', label: 'Allow sending messages from Backup (to their own mailbox, no threats)' },
  { key: 'personal.remove_message_id', label: 'Remove SMTP Message-ID (as is only; may break DKIM)' },
  { key: 'personal.group_mailboxes', label: 'Allow access to Backup of group mailboxes' },
];

export interface SettingsForm {
  maxSize: string;
  notifyFreeBelow: string;
  allowInfected: boolean;
  unavailable: UnavailableAction;
  htmlPreview: boolean;
  // Present when the server has an accounts database.
  personal: Partial<Record<PersonalFlagKey, boolean>>;
  personalFormat: string;
}

export function formFromSettings(s: Settings): SettingsForm {
  return {
    maxSize: formatSizeInput(s.max_size),
    notifyFreeBelow: formatSizeInput(s.notify_free_below),
    allowInfected: !!s.allow_infected_delivery,
    unavailable: s.unavailable_action,
    htmlPreview: !!s.html_preview,
    personal: Object.fromEntries(
      PERSONAL_FLAGS.filter((f) => typeof s[f.key] === 'boolean').map((f) => [f.key, !!s[f.key]]),
    ),
    personalFormat: s['personal.delivery_format'] ?? '',
  };
}

// The update for PUT /api/v1/settings, or an error for the user. An empty
// update means nothing changed.
export function settingsUpdate(
  before: SettingsForm,
  now: SettingsForm,
): { update: SettingsUpdate; error: null } | { update: null; error: string } {
  const update: SettingsUpdate = {};
  if (now.maxSize.trim() !== before.maxSize.trim()) {
    const v = parseSizeInput(now.maxSize);
    if (v === null) return { update: null, error: 'Maximum size: give a size such as 7.32GB or 500MB' };
    if ((sizeInputBytes(now.maxSize) ?? 0) <= 0) return { update: null, error: 'Maximum size must be more than 0' };
    update.max_size = v;
  }
  if (now.notifyFreeBelow.trim() !== before.notifyFreeBelow.trim()) {
    const v = parseSizeInput(now.notifyFreeBelow);
    if (v === null) return { update: null, error: 'Free space notification: give a size such as 1GB' };
    update.notify_free_below = v;
  }
  if (now.allowInfected !== before.allowInfected) update.allow_infected_delivery = now.allowInfected;
  if (now.unavailable !== before.unavailable) update.unavailable_action = now.unavailable;
  if (now.htmlPreview !== before.htmlPreview) update.html_preview = now.htmlPreview;
  for (const f of PERSONAL_FLAGS) {
    const v = now.personal[f.key];
    if (v !== undefined && v !== before.personal[f.key]) update[f.key] = v;
  }
  if (now.personalFormat && now.personalFormat !== before.personalFormat) {
    update['personal.delivery_format'] = now.personalFormat;
  }
  return { update, error: null };
}

// The shapes of the console REST API (/api/v1, notes in docs/api.md). Only
// what the UI reads is typed; the server may send more.

export type Permission =
  | 'search'
  | 'view'
  | 'preview'
  | 'save'
  | 'deliver'
  | 'deliver_other'
  | 'delete'
  | 'settings_read'
  | 'settings_write'
  | 'queue'
  | 'audit'
  | 'usage';

export interface Session {
  account: string;
  role: string;
  permissions: Permission[];
  csrf_token: string;
  idle_timeout: number;
  expires_at: string | null;
  // A personal user's mailboxes and the administrator's personal.* settings.
  personal?: PersonalSession;
}

export interface PersonalMailbox {
  address: string;
  delegated: boolean;
  via: string;
}

export interface PersonalSession {
  mailboxes: PersonalMailbox[];
  settings: Partial<Record<'backup' | 'preview' | 'delete' | 'send' | 'remove_message_id' | 'group_mailboxes', boolean>> & {
    delivery_format?: string;
  };
}

export interface Attachment {
  name: string;
  type: string;
  size: number;
}

// Address fields are header text; a server may also send lists.
export type AddressValue = string | string[] | null | undefined;

export interface Copy {
  id: number;
  placed_at: string | null;
  received_at: string | null;
  sent_at: string | null;
  mail_from: string | null;
  rcpt: string[];
  from: AddressValue;
  to: AddressValue;
  cc: AddressValue;
  bcc: AddressValue;
  subject: string | null;
  message_id: string | null;
  queue_id: string | null;
  size: number;
  rule_id: string | null;
  statuses: Record<string, string>;
  reason: string | null;
  attachments: Attachment[];
  // Copies that are probably the same message kept twice (docs/intake.md).
  possible_duplicates?: number[];
  [extra: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next: number | null;
}

export interface TextPreview {
  text: string;
  truncated: boolean;
  has_html: boolean;
  html_allowed: boolean;
}

export type DeliveryFormat = 'as-is' | 'as-attachment';

export interface DeliveryRequest {
  ids: number[];
  original: boolean;
  to: string[];
  format: DeliveryFormat;
  remove_message_id: boolean;
}

export type DeliveryState = 'queued' | 'sending' | 'delivered' | 'deferred' | 'failed';

export interface DeliveryEntry {
  id: number;
  request: number;
  copy_id: number;
  rcpt: string;
  original: boolean;
  mail_from: string | null;
  format: string;
  remove_message_id: boolean;
  state: DeliveryState | string;
  attempts: number;
  last_reply: string | null;
  created_at: string | null;
  updated_at: string | null;
  next_attempt_at: string | null;
  expires_at: string | null;
  requested_by: string | null;
}

export interface DeliveryPage extends Page<DeliveryEntry> {
  counts: Partial<Record<DeliveryState, number>>;
}

export interface DeliveryAnswer {
  message: string;
  request: number;
  entries: DeliveryEntry[];
}

export type UnavailableAction = 'process' | 'tempfail' | 'reject';

export type Settings = {
  max_size: number;
  notify_free_below: number;
  allow_infected_delivery: boolean;
  unavailable_action: UnavailableAction;
  html_preview: boolean;
  warnings?: string[];
} & Partial<Record<PersonalFlagKey, boolean>> & { 'personal.delivery_format'?: string };

// The personal Backup's settings (docs/personal.md), kept by the server in
// the accounts database.
export type PersonalFlagKey =
  | 'personal.backup'
  | 'personal.preview'
  | 'personal.delete'
  | 'personal.send'
  | 'personal.remove_message_id'
  | 'personal.group_mailboxes';

export type SettingsUpdate = Partial<{
  max_size: number | string;
  notify_free_below: number | string;
  allow_infected_delivery: boolean;
  unavailable_action: UnavailableAction;
  html_preview: boolean;
}> &
  Partial<Record<PersonalFlagKey, boolean>> & { 'personal.delivery_format'?: string };

export interface Usage {
  copies: number;
  bytes: number;
  max_bytes: number;
  message_bytes: number;
  free_bytes: number;
  segments: number;
  oldest: string | null;
  newest: string | null;
  // Since when the Backup refuses copies (full disk, I/O error); null while it takes them.
  unavailable_since?: string | null;
}

export interface AuditEntry {
  id: number;
  at: string | null;
  account: string | null;
  role: string | null;
  client: string | null;
  action: string;
  copy_ids: number[];
  result: string;
  detail: string | null;
}

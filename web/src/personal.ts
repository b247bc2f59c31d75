// Personal mode: a personal user's session (role "personal") carries the
// mailboxes they may see and the administrator's personal.* settings. The
// server scopes every request itself; this only shapes the UI (mailbox
// switch, Backup-off notice, a delivery that names no other address).

import type { PersonalMailbox, Session } from './types';

export function isPersonal(session: Session | null | undefined): boolean {
  return !!session && session.role === 'personal';
}

// Personal Backup turned off: every page but sign-out answers 403.
export function personalBackupOff(session: Session | null | undefined): boolean {
  return isPersonal(session) && session?.personal?.settings?.backup !== true;
}

export interface MailboxChoice {
  value: string; // '' = all of the user's mailboxes
  label: string;
}

// The switch between the user's own mailbox(es) and each delegated one.
export function mailboxChoices(session: Session | null | undefined): MailboxChoice[] {
  const boxes: PersonalMailbox[] = session?.personal?.mailboxes ?? [];
  if (!isPersonal(session)) return [];
  const out: MailboxChoice[] = [{ value: '', label: boxes.length > 1 ? 'All my mailboxes' : 'My mailbox' }];
  if (boxes.length > 1) {
    for (const b of boxes) {
      out.push({ value: b.address, label: b.delegated ? `${b.address} (delegated${b.via ? `, ${b.via}` : ''})` : b.address });
    }
  }
  return out;
}

// The body of a personal delivery: the copies, and the mailbox chosen in
// the switch (the server sends each copy to the user's own mailboxes it was
// addressed to, never elsewhere).
export function personalDelivery(ids: number[], mailbox: string): { ids: number[]; mailbox?: string } {
  return mailbox ? { ids, mailbox } : { ids };
}

// The mailbox chosen in the list's switch ('' = all of the user's), kept
// for the page's life so the Deliver dialog and the next list agree.
let chosenMailbox = '';
export function currentMailbox(): string {
  return chosenMailbox;
}
export function setCurrentMailbox(value: string): void {
  chosenMailbox = value;
}

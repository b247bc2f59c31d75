import { describe, expect, it } from 'vitest';
import { isPersonal, mailboxChoices, personalBackupOff, personalDelivery } from './personal';
import type { Session } from './types';

const base: Session = {
  account: 'pat',
  role: 'personal',
  permissions: ['search', 'view'],
  csrf_token: 'x',
  idle_timeout: 1800,
  expires_at: null,
};

describe('personal mode', () => {
  it('knows a personal session and the Backup-off state', () => {
    expect(isPersonal(base)).toBe(true);
    expect(isPersonal({ ...base, role: 'administrator' })).toBe(false);
    expect(personalBackupOff(base)).toBe(true); // no settings: off
    expect(
      personalBackupOff({ ...base, personal: { mailboxes: [], settings: { backup: true } } }),
    ).toBe(false);
    expect(personalBackupOff({ ...base, role: 'administrator' })).toBe(false);
  });
  it('offers one choice for a local user and each mailbox for a delegate', () => {
    const local = { ...base, personal: { mailboxes: [{ address: 'pat@example.com', delegated: false, via: '' }], settings: { backup: true } } };
    expect(mailboxChoices(local)).toEqual([{ value: '', label: 'My mailbox' }]);
    const delegate = {
      ...base,
      personal: {
        mailboxes: [
          { address: 'pat@example.com', delegated: false, via: '' },
          { address: 'sales@example.com', delegated: true, via: 'group sales' },
        ],
        settings: { backup: true },
      },
    };
    expect(mailboxChoices(delegate).map((c) => c.value)).toEqual(['', 'pat@example.com', 'sales@example.com']);
    expect(mailboxChoices(delegate)[2].label).toContain('delegated');
    expect(mailboxChoices({ ...base, role: 'helpdesk' })).toEqual([]);
  });
  it('never names another address in a delivery', () => {
    expect(personalDelivery([3], '')).toEqual({ ids: [3] });
    expect(personalDelivery([3, 4], 'sales@example.com')).toEqual({ ids: [3, 4], mailbox: 'sales@example.com' });
  });
});

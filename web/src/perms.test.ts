import { describe, expect, it } from 'vitest';
import { can, homePath, listActions, navItems, routePermission } from './perms';
import type { Permission, Session } from './types';

function session(role: string, permissions: Permission[]): Session {
  return { account: 'u', role, permissions, csrf_token: 't', idle_timeout: 900, expires_at: null };
}

// The role table of the API contract.
const admin = session('administrator', [
  'search', 'view', 'preview', 'save', 'deliver', 'deliver_other', 'delete',
  'settings_read', 'settings_write', 'queue', 'audit', 'usage',
]);
const helpdesk = session('helpdesk', ['search', 'view', 'preview', 'save', 'deliver', 'queue', 'usage']);
const auditor = session('auditor', ['search', 'view', 'audit', 'queue', 'usage', 'settings_read']);

describe('permission gating', () => {
  it('administrator sees every button and page', () => {
    expect(listActions(admin)).toEqual({ deliver: true, view: true, save: true, delete: true, deliverOther: true, preview: true, personal: false });
    expect(navItems(admin).map((n) => n.path)).toEqual(['/', '/queue', '/audit', '/settings', '/usage']);
  });

  it('helpdesk delivers to original recipients only and cannot delete', () => {
    const a = listActions(helpdesk);
    expect(a.deliver).toBe(true);
    expect(a.deliverOther).toBe(false);
    expect(a.delete).toBe(false);
    expect(a.save).toBe(true);
    expect(navItems(helpdesk).map((n) => n.testid)).toEqual(['nav-list', 'nav-queue', 'nav-usage']);
  });

  it('auditor sees no message content and changes nothing', () => {
    expect(listActions(auditor)).toEqual({ deliver: false, view: true, save: false, delete: false, deliverOther: false, preview: false, personal: false });
    expect(can(auditor, 'settings_read')).toBe(true);
    expect(can(auditor, 'settings_write')).toBe(false);
    expect(navItems(auditor).map((n) => n.path)).toContain('/audit');
  });

  it('deliver_other without deliver gives nothing', () => {
    expect(listActions(session('odd', ['deliver_other'])).deliverOther).toBe(false);
  });

  it('no session or a broken one allows nothing', () => {
    expect(can(null, 'search')).toBe(false);
    expect(can({ ...admin, permissions: undefined as unknown as Permission[] }, 'search')).toBe(false);
    expect(navItems(undefined)).toEqual([]);
  });

  it('pages need their permission, and a role starts on its first page', () => {
    expect(routePermission('copy')).toBe('view');
    expect(routePermission('settings')).toBe('settings_read');
    expect(routePermission('login')).toBeUndefined();
    expect(homePath(admin)).toBe('/');
    expect(homePath(session('q', ['queue']))).toBe('/queue');
    expect(homePath(session('none', []))).toBe('/');
  });
});

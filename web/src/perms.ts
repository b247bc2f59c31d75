// What the signed-in role may do, from session.permissions. The server
// checks every request itself; the UI only hides what would be refused.

import type { Permission, Session } from './types';

export function can(session: Session | null | undefined, p: Permission): boolean {
  return !!session && Array.isArray(session.permissions) && session.permissions.includes(p);
}

export interface ListActions {
  deliver: boolean;
  view: boolean;
  save: boolean;
  delete: boolean;
  // Deliver to addresses other than the original recipients.
  deliverOther: boolean;
  preview: boolean;
  // A personal user: deliveries go to their own mailbox (personal.ts).
  personal: boolean;
}

export function listActions(session: Session | null | undefined): ListActions {
  return {
    deliver: can(session, 'deliver'),
    view: can(session, 'view'),
    save: can(session, 'save'),
    delete: can(session, 'delete'),
    deliverOther: can(session, 'deliver') && can(session, 'deliver_other'),
    preview: can(session, 'preview'),
    personal: !!session && session.role === 'personal',
  };
}

export interface NavItem {
  path: string;
  label: string;
  testid: string;
}

const NAV: ReadonlyArray<NavItem & { need: Permission }> = [
  { path: '/', label: 'Backup', testid: 'nav-list', need: 'search' },
  { path: '/queue', label: 'Delivery queue', testid: 'nav-queue', need: 'queue' },
  { path: '/audit', label: 'Audit log', testid: 'nav-audit', need: 'audit' },
  { path: '/settings', label: 'Settings', testid: 'nav-settings', need: 'settings_read' },
  { path: '/usage', label: 'Store usage', testid: 'nav-usage', need: 'usage' },
];

// The header's links, those the role may open, in order.
export function navItems(session: Session | null | undefined): NavItem[] {
  return NAV.filter((n) => can(session, n.need)).map(({ path, label, testid }) => ({ path, label, testid }));
}

// The permission a page needs, by route name; undefined = none beyond login.
export function routePermission(route: string): Permission | undefined {
  switch (route) {
    case 'list':
      return 'search';
    case 'copy':
      return 'view';
    case 'queue':
      return 'queue';
    case 'audit':
      return 'audit';
    case 'settings':
      return 'settings_read';
    case 'usage':
      return 'usage';
    default:
      return undefined;
  }
}

// Where to go after login when no page was asked for: the first page the
// role may open.
export function homePath(session: Session | null | undefined): string {
  return navItems(session)[0]?.path ?? '/';
}

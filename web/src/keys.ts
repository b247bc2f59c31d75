// Keyboard use of the Backup list, for people who triage all day:
//   j / ↓  next row        k / ↑  previous row
//   x / space  check the row   Enter / o  view it
//   /  focus the filter    n / p  next / previous page
//   *  check all / none    Esc  leave the filter field
// The mapping and the selection rules are pure so they can be tested.

export type ListKeyAction =
  | 'down'
  | 'up'
  | 'toggle'
  | 'open'
  | 'focus-filter'
  | 'next-page'
  | 'prev-page'
  | 'toggle-all'
  | 'first'
  | 'last';

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

export function listKeyAction(e: KeyLike): ListKeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      return 'down';
    case 'k':
    case 'ArrowUp':
      return 'up';
    case 'x':
    case ' ':
      return 'toggle';
    case 'Enter':
    case 'o':
      return 'open';
    case '/':
      return 'focus-filter';
    case 'n':
      return 'next-page';
    case 'p':
      return 'prev-page';
    case '*':
      return 'toggle-all';
    case 'Home':
    case 'g':
      return 'first';
    case 'End':
    case 'G':
      return 'last';
    default:
      return null;
  }
}

// The row cursor after a move, within [0, count); -1 when the list is empty.
export function moveCursor(cursor: number, count: number, action: 'down' | 'up' | 'first' | 'last'): number {
  if (count <= 0) return -1;
  switch (action) {
    case 'first':
      return 0;
    case 'last':
      return count - 1;
    case 'down':
      return cursor < 0 ? 0 : Math.min(cursor + 1, count - 1);
    case 'up':
      return cursor < 0 ? 0 : Math.max(cursor - 1, 0);
  }
}

// True when keys belong to a form control, not to the list.
export function isTypingTarget(t: EventTarget | null): boolean {
  if (!t || typeof (t as Element).tagName !== 'string') return false;
  const el = t as HTMLElement;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return type !== 'checkbox' && type !== 'radio' && type !== 'button' && type !== 'submit';
  }
  return false;
}

// The copies a toolbar button acts on: the checked ones, or, when none is
// checked, the one under the cursor.
export function actionTargets(checked: ReadonlySet<number>, ids: readonly number[], cursor: number): number[] {
  const inPage = ids.filter((id) => checked.has(id));
  if (inPage.length) return inPage;
  if (cursor >= 0 && cursor < ids.length) return [ids[cursor]];
  return [];
}

export function toggle(checked: ReadonlySet<number>, id: number): Set<number> {
  const next = new Set(checked);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

// Check every row, or clear when all already are.
export function toggleAll(checked: ReadonlySet<number>, ids: readonly number[]): Set<number> {
  const all = ids.length > 0 && ids.every((id) => checked.has(id));
  return all ? new Set() : new Set(ids);
}

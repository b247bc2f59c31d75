import { describe, expect, it } from 'vitest';
import { actionTargets, isTypingTarget, listKeyAction, moveCursor, toggle, toggleAll } from './keys';

describe('list keys', () => {
  it('maps vi keys and arrows', () => {
    expect(listKeyAction({ key: 'j' })).toBe('down');
    expect(listKeyAction({ key: 'ArrowDown' })).toBe('down');
    expect(listKeyAction({ key: 'k' })).toBe('up');
    expect(listKeyAction({ key: 'ArrowUp' })).toBe('up');
    expect(listKeyAction({ key: 'x' })).toBe('toggle');
    expect(listKeyAction({ key: ' ' })).toBe('toggle');
    expect(listKeyAction({ key: 'Enter' })).toBe('open');
    expect(listKeyAction({ key: '/' })).toBe('focus-filter');
    expect(listKeyAction({ key: 'n' })).toBe('next-page');
    expect(listKeyAction({ key: 'p' })).toBe('prev-page');
    expect(listKeyAction({ key: 'q' })).toBeNull();
    // Browser shortcuts stay the browser's.
    expect(listKeyAction({ key: 'j', ctrlKey: true })).toBeNull();
    expect(listKeyAction({ key: 'n', metaKey: true })).toBeNull();
  });

  it('keeps the cursor inside the page', () => {
    expect(moveCursor(-1, 3, 'down')).toBe(0);
    expect(moveCursor(0, 3, 'down')).toBe(1);
    expect(moveCursor(2, 3, 'down')).toBe(2);
    expect(moveCursor(0, 3, 'up')).toBe(0);
    expect(moveCursor(2, 3, 'up')).toBe(1);
    expect(moveCursor(1, 3, 'last')).toBe(2);
    expect(moveCursor(2, 3, 'first')).toBe(0);
    expect(moveCursor(0, 0, 'down')).toBe(-1);
  });

  it('acts on the checked rows, else on the cursor row', () => {
    const ids = [30, 20, 10];
    expect(actionTargets(new Set([10, 30]), ids, 1)).toEqual([30, 10]);
    expect(actionTargets(new Set(), ids, 1)).toEqual([20]);
    expect(actionTargets(new Set(), ids, -1)).toEqual([]);
    // A checked id no longer on the page does not count.
    expect(actionTargets(new Set([99]), ids, 0)).toEqual([30]);
  });

  it('toggles one and all', () => {
    expect([...toggle(new Set([1]), 2)]).toEqual([1, 2]);
    expect([...toggle(new Set([1, 2]), 1)]).toEqual([2]);
    expect([...toggleAll(new Set([1]), [1, 2])].sort()).toEqual([1, 2]);
    expect([...toggleAll(new Set([1, 2]), [1, 2])]).toEqual([]);
    expect([...toggleAll(new Set(), [])]).toEqual([]);
  });

  it('knows when keys belong to a form field', () => {
    const el = (tagName: string, extra: Record<string, unknown> = {}) => ({ tagName, ...extra }) as unknown as EventTarget;
    expect(isTypingTarget(el('INPUT', { type: 'search' }))).toBe(true);
    expect(isTypingTarget(el('INPUT', { type: 'checkbox' }))).toBe(false);
    expect(isTypingTarget(el('TEXTAREA'))).toBe(true);
    expect(isTypingTarget(el('SELECT'))).toBe(true);
    expect(isTypingTarget(el('DIV', { isContentEditable: true }))).toBe(true);
    expect(isTypingTarget(el('TR'))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

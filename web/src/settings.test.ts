import { describe, expect, it } from 'vitest';
import { formFromSettings, settingsUpdate } from './settings';
import type { Settings } from './types';

const server: Settings = {
  max_size: Math.round(7.32 * 1024 ** 3),
  notify_free_below: 100 * 1024 * 1024,
  allow_infected_delivery: false,
  unavailable_action: 'tempfail',
  html_preview: true,
};

describe('settings form', () => {
  it('shows sizes in the server syntax', () => {
    expect(formFromSettings(server)).toEqual({
      maxSize: '7.32GB',
      notifyFreeBelow: '100MB',
      allowInfected: false,
      unavailable: 'tempfail',
      htmlPreview: true,
      personal: {},
      personalFormat: '',
    });
  });

  it('reads and sends the personal Backup settings', () => {
    const f = formFromSettings({
      ...server,
      'personal.backup': false,
      'personal.send': true,
      'personal.delivery_format': 'as-attachment',
    });
    expect(f.personal).toEqual({ 'personal.backup': false, 'personal.send': true });
    expect(
      settingsUpdate(f, { ...f, personal: { ...f.personal, 'personal.backup': true }, personalFormat: 'as-is' })
        .update,
    ).toEqual({ 'personal.backup': true, 'personal.delivery_format': 'as-is' });
    expect(settingsUpdate(f, f).update).toEqual({});
  });

  it('sends only what changed', () => {
    const f = formFromSettings(server);
    expect(settingsUpdate(f, f)).toEqual({ update: {}, error: null });
    expect(settingsUpdate(f, { ...f, allowInfected: true, unavailable: 'reject' }).update).toEqual({
      allow_infected_delivery: true,
      unavailable_action: 'reject',
    });
    expect(settingsUpdate(f, { ...f, maxSize: '10 gb' }).update).toEqual({ max_size: '10GB' });
    expect(settingsUpdate(f, { ...f, notifyFreeBelow: '1048576' }).update).toEqual({ notify_free_below: 1048576 });
  });

  it('refuses sizes it cannot read', () => {
    const f = formFromSettings(server);
    expect(settingsUpdate(f, { ...f, maxSize: 'big' }).error).toMatch(/Maximum size/);
    expect(settingsUpdate(f, { ...f, maxSize: '0' }).error).toMatch(/more than 0/);
    expect(settingsUpdate(f, { ...f, notifyFreeBelow: '-1MB' }).error).toMatch(/Free space/);
  });
});

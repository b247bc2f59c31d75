import { describe, expect, it } from 'vitest';
import {
  addressText,
  formatBytes,
  formatSizeInput,
  formatTime,
  formatTimeFull,
  fromText,
  parseAddressList,
  parseSizeInput,
  sizeInputBytes,
  stateTone,
  statusTone,
  toDatetimeLocal,
  toText,
} from './format';

describe('sizes', () => {
  it('formats with 1 KB = 1024 bytes and three digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(10 * 1024 + 512)).toBe('10.5 KB');
    expect(formatBytes(123.4 * 1024 * 1024)).toBe('123 MB');
    expect(formatBytes(Math.round(7.32 * 1024 ** 3))).toBe('7.32 GB');
    expect(formatBytes(2 * 1024 ** 4)).toBe('2 TB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(NaN)).toBe('—');
  });

  it('round-trips settings sizes through the server syntax', () => {
    expect(formatSizeInput(Math.round(7.32 * 1024 ** 3))).toBe('7.32GB');
    expect(formatSizeInput(500 * 1024 * 1024)).toBe('500MB');
    expect(formatSizeInput(512)).toBe('512B');
    expect(parseSizeInput('7.32GB')).toBe('7.32GB');
    expect(parseSizeInput(' 500 mb ')).toBe('500MB');
    expect(parseSizeInput('1048576')).toBe(1048576);
    expect(parseSizeInput('lots')).toBeNull();
    expect(parseSizeInput('5 XB')).toBeNull();
    expect(sizeInputBytes('1.5KB')).toBe(1536);
    expect(sizeInputBytes('2GB')).toBe(2 * 1024 ** 3);
    expect(sizeInputBytes('x')).toBeNull();
  });
});

describe('times (TZ=Europe/Berlin)', () => {
  it('shows local wall-clock time', () => {
    expect(formatTime('2026-12-07T02:12:52.123456Z')).toBe('2026-12-07 03:12');
    expect(formatTimeFull('2026-12-07T02:12:52.123456Z')).toBe('2026-12-07 03:12:52');
    expect(formatTime('2026-07-01T23:30:00Z')).toBe('2026-07-02 01:30');
    expect(toDatetimeLocal('2026-07-01T23:30:00Z')).toBe('2026-07-02T01:30');
  });
  it('shows a dash for none and the text itself when it is not a time', () => {
    expect(formatTime(null)).toBe('—');
    expect(formatTimeFull(undefined)).toBe('—');
    expect(formatTime('soon')).toBe('soon');
  });
});

describe('addresses', () => {
  it('joins lists and falls back to the envelope', () => {
    expect(addressText(['a@x.org', 'b@y.org'])).toBe('a@x.org, b@y.org');
    expect(addressText('"A" <a@x.org>')).toBe('"A" <a@x.org>');
    expect(addressText(null)).toBe('');
    expect(fromText('', 'env@x.org')).toBe('env@x.org');
    expect(toText(null, ['r1@x.org', 'r2@x.org'])).toBe('r1@x.org, r2@x.org');
    expect(toText('hdr@x.org', ['r1@x.org'])).toBe('hdr@x.org');
  });

  it('parses the Deliver dialog address list', () => {
    expect(parseAddressList('a@x.org, b@y.org;c@z.org\n<d@w.org>  A@X.org')).toEqual({
      addresses: ['a@x.org', 'b@y.org', 'c@z.org', 'd@w.org'],
      bad: [],
    });
    expect(parseAddressList('bob, x@y, ok@ex.com').bad).toEqual(['bob', 'x@y']);
    expect(parseAddressList('   ')).toEqual({ addresses: [], bad: [] });
  });
});

describe('chip tones', () => {
  it('colours labels by how alarming they are', () => {
    expect(statusTone('clean')).toBe('ok');
    expect(statusTone('Not detected')).toBe('ok');
    expect(statusTone('infected')).toBe('bad');
    expect(statusTone('spam')).toBe('bad');
    expect(statusTone('phishing')).toBe('bad');
    expect(statusTone('Banned file name')).toBe('bad');
    expect(statusTone('probable-spam')).toBe('warn');
    expect(statusTone('Probably infected')).toBe('warn');
    expect(statusTone('massmail')).toBe('warn');
    expect(statusTone('Encrypted')).toBe('warn');
    expect(statusTone('unscannable')).toBe('muted');
    expect(statusTone('error')).toBe('muted');
    expect(statusTone('Bases error')).toBe('muted');
    expect(stateTone('delivered')).toBe('ok');
    expect(stateTone('failed')).toBe('bad');
    expect(stateTone('deferred')).toBe('warn');
    expect(stateTone('queued')).toBe('info');
    expect(stateTone('whatever')).toBe('muted');
  });
});

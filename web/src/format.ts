// Display formatting shared by every page: sizes (1 KB = 1024 bytes, as the
// server counts), times (local wall clock, sortable), addresses, status
// chips. Pure functions.

import type { AddressValue } from './types';

const UNITS = ['KB', 'MB', 'GB', 'TB', 'PB'];

// 512 → "512 B", 1536 → "1.5 KB", 7.32 GiB → "7.32 GB". Three significant
// digits, trailing zeros dropped.
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${Math.round(v)} B`;
  let unit = -1;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  const decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  const text = decimals ? v.toFixed(decimals).replace(/\.?0+$/, '') : v.toFixed(0);
  return `${sign}${text} ${UNITS[unit]}`;
}

// A size for a settings field, in the server's input syntax: 7859790152 →
// "7.32GB", 512 → "512B". Rounded to three digits, so a form sends a size
// only when the user changed the text.
export function formatSizeInput(n: number): string {
  return formatBytes(n).replace(' ', '');
}

// A settings size as typed: "7.32GB", "500 mb", "1048576". Returns the value
// for PUT /api/v1/settings (a number of bytes, or the normalized text the
// server parses) or null when it is not a size.
export function parseSizeInput(s: string): number | string | null {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)$/i.exec(t);
  if (!m) return null;
  return `${m[1]}${m[2].toUpperCase()}`;
}

// A size input's value in bytes (for client-side checks), or null.
export function sizeInputBytes(s: string): number | null {
  const v = parseSizeInput(s);
  if (v === null) return null;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|TB)$/.exec(v)!;
  const power = ['B', 'KB', 'MB', 'GB', 'TB'].indexOf(m[2]);
  return Math.round(Number(m[1]) * 1024 ** power);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "2026-12-07 03:12" in local time; "—" for none; the text itself when the
// server sent something that is not a time.
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = parse(iso);
  if (!d) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// As formatTime, with seconds.
export function formatTimeFull(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = parse(iso);
  if (!d) return iso;
  return `${formatTime(iso)}:${pad(d.getSeconds())}`;
}

// A time for a datetime-local input ("2026-12-07T03:12"), local.
export function toDatetimeLocal(iso: string): string {
  const d = parse(iso);
  if (!d) return '';
  return formatTime(iso).replace(' ', 'T');
}

export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US');
}

// Header text or a list of addresses, as one line.
export function addressText(v: AddressValue): string {
  if (v == null) return '';
  if (Array.isArray(v)) return v.filter(Boolean).join(', ');
  return String(v);
}

// What the list's From / To columns show: the header, else the envelope.
export function fromText(from: AddressValue, mailFrom: string | null | undefined): string {
  return addressText(from) || mailFrom || '';
}

export function toText(to: AddressValue, rcpt: string[] | null | undefined): string {
  return addressText(to) || (rcpt ?? []).join(', ');
}

export type Tone = 'bad' | 'warn' | 'ok' | 'info' | 'muted';

// The colour of a scan result chip. Labels come from the engines and are
// shown as given ("infected", "probable-spam", "Banned file name", ...);
// this only decides how alarming they look.
export function statusTone(label: string): Tone {
  const l = label.toLowerCase().replace(/[_\s]+/g, '-');
  if (/^(clean|not-detected|ok|pass|none|whitelisted)$/.test(l)) return 'ok';
  if (/(error|not-scanned|unscannable|timeout|skipped)/.test(l)) return 'muted';
  if (/^(probabl|possibl|suspect|suspicious)|massmail|encrypted|corrupt|size-exceeded|unknown/.test(l)) {
    return 'warn';
  }
  return 'bad';
}

// The colour of a delivery queue state, and of an audit result.
export function stateTone(state: string): Tone {
  switch (state) {
    case 'delivered':
    case 'ok':
      return 'ok';
    case 'queued':
    case 'sending':
      return 'info';
    case 'deferred':
    case 'denied':
      return 'warn';
    case 'failed':
    case 'error':
      return 'bad';
    default:
      return 'muted';
  }
}

// Addresses typed into the Deliver dialog: separated by commas, semicolons,
// spaces or new lines. `bad` lists what does not look like an address.
export function parseAddressList(s: string): { addresses: string[]; bad: string[] } {
  const parts = s.split(/[\s,;]+/).filter(Boolean);
  const addresses: string[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    const a = p.replace(/^<(.*)>$/, '$1');
    if (!/^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>().]+$/.test(a)) {
      bad.push(p);
    } else if (!seen.has(a.toLowerCase())) {
      seen.add(a.toLowerCase());
      addresses.push(a);
    }
  }
  return { addresses, bad };
}

// Text from a message (a header value, an address, a file name, an engine's
// label, an audit detail) made safe to show: every character that is
// invisible, moves other text or is not text at all becomes a visible token,
// so "report\u202Efdp.exe" shows as "report⟨U+202E⟩fdp.exe", never as
// "reportexe.pdf". The same rules as the CLI's (src/base/display_text.h);
// keep the two in step:
//   - controls (Cc) become ⟨U+001B⟩ ..., except TAB, which becomes a space;
//   - format characters (Cf): bidi embeddings, overrides, isolates and marks
//     (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), zero-width
//     characters (U+200B–U+200D, U+2060, U+FEFF), the soft hyphen, tags...;
//   - line and paragraph separators (Zl, Zp);
//   - fillers that draw nothing (U+034F, U+115F, U+1160, U+17B4, U+17B5,
//     U+3164, U+FFA0) and the unassigned default-ignorable code points
//     (U+2060–U+206F, U+FFF0–U+FFF8, U+E0000–U+E0FFF but not the variation
//     selectors U+E0100–U+E01EF);
//   - a lone surrogate (a string no UTF-8 can carry).
// Invalid UTF-8 never reaches the UI: the API sends it as U+FFFD, which
// shows as itself. Components render these strings with <Shown> (Shown.tsx),
// which also isolates each value (<bdi>) from its neighbours.

const HIDDEN =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u034F\u115F\u1160\u17B4\u17B5\u2060-\u206F\u3164\uFFA0\uFFF0-\uFFF8\u{E0000}-\u{E00FF}\u{E01F0}-\u{E0FFF}]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

// Names for the tokens' tooltips, where a name helps.
const NAMES: Record<number, string> = {
  0x00ad: 'soft hyphen',
  0x061c: 'Arabic letter mark',
  0x200b: 'zero width space',
  0x200c: 'zero width non-joiner',
  0x200d: 'zero width joiner',
  0x200e: 'left-to-right mark',
  0x200f: 'right-to-left mark',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override',
  0x2060: 'word joiner',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
  0xfeff: 'zero width no-break space',
};

export function isHidden(ch: string): boolean {
  return ch !== '\t' && HIDDEN.test(ch);
}

// "⟨U+202E⟩" for one hidden character.
export function token(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `⟨U+${cp.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

// A token's tooltip: "U+202E right-to-left override".
export function tokenTitle(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const name = NAMES[cp] ?? (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? 'control character' : 'invisible or format character');
  return `${token(ch).slice(1, -1)} ${name}`;
}

export function displayText(s: string | null | undefined): string {
  if (s == null) return '';
  return String(s).replace(HIDDEN_ALL, (ch) => (ch === '\t' ? ' ' : token(ch)));
}

// The shown text in runs of plain text and single hidden characters, for a
// component that styles the tokens. Joining the parts' `text` gives
// displayText(s).
export interface DisplayPart {
  text: string;
  hidden?: string; // the character the token stands for
}

export function displayParts(s: string | null | undefined): DisplayPart[] {
  const out: DisplayPart[] = [];
  let plain = '';
  for (const ch of s == null ? '' : String(s)) {
    if (ch === '\t') {
      plain += ' ';
    } else if (HIDDEN.test(ch)) {
      if (plain) out.push({ text: plain });
      plain = '';
      out.push({ text: token(ch), hidden: ch });
    } else {
      plain += ch;
    }
  }
  if (plain) out.push({ text: plain });
  return out;
}

// The last extension of a file name as the receiving system sees it,
// computed on the shown name after dropping trailing dots and spaces (which
// Windows drops) and anything up to the last '/' or '\': ".exe" for
// "report\u202Efdp.exe", ".pdf⟨U+200B⟩" for "a.pdf\u200B", '' when the
// name has no '.' (a look-alike dot such as U+2024 is not a dot).
export function finalExtension(name: string | null | undefined): string {
  let s = displayText(name).replace(/[. ]+$/, '');
  s = s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) + 1);
  const dot = s.lastIndexOf('.');
  return dot < 0 ? '' : s.slice(dot);
}

import { describe, expect, it } from 'vitest';
import { displayParts, displayText, finalExtension, isHidden, tokenTitle } from './display';

describe('displayText', () => {
  it('leaves ordinary text alone, right-to-left letters and emoji included', () => {
    for (const s of ['Quarterly invoice', 'Jürgen <j@example.de>', 'שלום مرحبا', '你好 😀 ❤️', '\uFFFD']) {
      expect(displayText(s)).toBe(s);
    }
    expect(displayText(null)).toBe('');
    expect(displayText(undefined)).toBe('');
  });

  it('shows a right-to-left override in a file name', () => {
    expect(displayText('report\u202Efdp.exe')).toBe('report⟨U+202E⟩fdp.exe');
    expect(finalExtension('report\u202Efdp.exe')).toBe('.exe');
  });

  it('shows every bidi control', () => {
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]) {
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      expect(displayText(`a${String.fromCodePoint(cp)}b`)).toBe(`a⟨U+${hex}⟩b`);
    }
    expect(displayText('Bank \u2067gro.elpmaxe@evil\u2069')).toBe('Bank ⟨U+2067⟩gro.elpmaxe@evil⟨U+2069⟩');
  });

  it('shows invisible and control characters', () => {
    expect(displayText('pay\u200Bpal')).toBe('pay⟨U+200B⟩pal');
    expect(displayText('\u200C\u200D\u2060\uFEFF\u00AD')).toBe('⟨U+200C⟩⟨U+200D⟩⟨U+2060⟩⟨U+FEFF⟩⟨U+00AD⟩');
    expect(displayText('\u3164\u{E0041}\u2028')).toBe('⟨U+3164⟩⟨U+E0041⟩⟨U+2028⟩');
    expect(displayText('a\x1b[31m\r\n\0\x7f\u009b')).toBe('a⟨U+001B⟩[31m⟨U+000D⟩⟨U+000A⟩⟨U+0000⟩⟨U+007F⟩⟨U+009B⟩');
    expect(displayText('a\tb')).toBe('a b');
    expect(displayText('x\uD800y')).toBe('x⟨U+D800⟩y'); // a lone surrogate
  });

  it('leaves no hidden character in what it returns, for every code point', () => {
    for (let base = 0; base <= 0x10ffff; base += 0x1000) {
      const cps: number[] = [];
      for (let cp = base; cp < base + 0x1000; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
      const shown = displayText(String.fromCodePoint(...cps));
      // Nothing hidden is left: showing it again changes nothing.
      if (displayText(shown) !== shown) expect.fail(`a hidden character left in block ${base.toString(16)}`);
    }
    // The same set as the CLI's table (src/base/display_text.cc), spot-checked
    // at its edges.
    const hidden = [0x0, 0x8, 0xa, 0x1f, 0x7f, 0x9f, 0xad, 0x34f, 0x600, 0x605, 0x61c, 0x6dd, 0x70f, 0x890, 0x8e2,
      0x115f, 0x1160, 0x17b4, 0x17b5, 0x180e, 0x200b, 0x200f, 0x2028, 0x202e, 0x2060, 0x2065, 0x206f, 0x3164,
      0xfeff, 0xffa0, 0xfff0, 0xfffb, 0x110bd, 0x110cd, 0x13430, 0x1bca0, 0x1d173, 0x1d17a, 0xe0000, 0xe0001,
      0xe007f, 0xe00ff, 0xe01f0, 0xe0fff];
    const shownAsIs = [0x9, 0x20, 0x7e, 0xa0, 0xac, 0xae, 0x34e, 0x350, 0x606, 0x200a, 0x2010, 0x2027, 0x202f,
      0x205f, 0x2070, 0xfe0f, 0xfefe, 0xfffc, 0xfffd, 0xe0100, 0xe01ef, 0xf0000];
    for (const cp of hidden) expect(isHidden(String.fromCodePoint(cp)), cp.toString(16)).toBe(true);
    for (const cp of shownAsIs) expect(isHidden(String.fromCodePoint(cp)), cp.toString(16)).toBe(false);
  });
});

describe('displayParts', () => {
  it('splits into plain runs and tokens that join to displayText', () => {
    const s = 'From \u2067x\u2069\tend';
    const parts = displayParts(s);
    expect(parts).toEqual([
      { text: 'From ' },
      { text: '⟨U+2067⟩', hidden: '\u2067' },
      { text: 'x' },
      { text: '⟨U+2069⟩', hidden: '\u2069' },
      { text: ' end' },
    ]);
    expect(parts.map((p) => p.text).join('')).toBe(displayText(s));
    expect(displayParts('')).toEqual([]);
    expect(tokenTitle('\u202E')).toBe('U+202E right-to-left override');
    expect(tokenTitle('\x1b')).toBe('U+001B control character');
  });
});

describe('finalExtension', () => {
  it('is the real last extension of the shown name', () => {
    expect(finalExtension('a.pdf')).toBe('.pdf');
    expect(finalExtension('archive.tar.gz')).toBe('.gz');
    expect(finalExtension('README')).toBe('');
    expect(finalExtension('')).toBe('');
    expect(finalExtension(null)).toBe('');
    expect(finalExtension('invoice.pdf\u200B')).toBe('.pdf⟨U+200B⟩');
    expect(finalExtension('invoice\u2024pdf')).toBe('');
    expect(finalExtension('evil.exe. . ')).toBe('.exe');
    expect(finalExtension('dir.d/payload')).toBe('');
    expect(finalExtension('c:\\x.y\\run.bat')).toBe('.bat');
    expect(finalExtension('photo\u2067gpj.\u2069.scr')).toBe('.scr');
  });
});

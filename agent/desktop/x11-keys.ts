import { NAMED_KEYS, PUNCTUATION } from './key-table.ts';
import { KeyNotAvailableError } from './platform.ts';

export { KeyNotAvailableError };

/** The X keysym for a pyautogui key name (canonical, as the parser produces). */
export function keysymFor(key: string): string {
  const named = NAMED_KEYS.get(key);
  if (named) {
    if (named.x11 === undefined) throw new KeyNotAvailableError(`the '${key}' key cannot be pressed from software on X11`);
    return named.x11;
  }
  const chars = [...key];
  if (chars.length === 1) {
    const c = chars[0]!;
    if (/^[A-Za-z0-9]$/.test(c)) return c;
    if (Object.hasOwn(PUNCTUATION, c)) return PUNCTUATION[c]!.x11;
    // X's Unicode keysyms: U+00E9 → "U00E9".
    return `U${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  throw new KeyNotAvailableError(`'${key}' is not a key name`);
}

/** Latin-1 keysyms X names by character (U+00A0..U+00FF) are also reachable as Uxxxx; this maps the names xmodmap prints. */
function keysymCodepoint(name: string): number | undefined {
  const m = /^U([0-9A-Fa-f]{4,6})$/.exec(name);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/**
 * The keysyms the current layout can produce, from `xmodmap -pke`
 * ("keycode  38 = a A a A"). Keys outside it would need a remapped keycode.
 */
export class Keymap {
  private readonly syms = new Set<string>();
  private readonly codepoints = new Set<number>();

  constructor(xmodmapOutput: string) {
    for (const line of xmodmapOutput.split('\n')) {
      const m = /^keycode\s+\d+\s*=\s*(.*)$/.exec(line.trim());
      if (!m) continue;
      for (const sym of m[1]!.split(/\s+/)) {
        if (!sym || sym === 'NoSymbol') continue;
        this.syms.add(sym);
        const cp = keysymCodepoint(sym);
        if (cp !== undefined) this.codepoints.add(cp);
      }
    }
  }

  get size(): number {
    return this.syms.size;
  }

  has(keysym: string): boolean {
    if (this.syms.has(keysym)) return true;
    const cp = keysymCodepoint(keysym);
    // Latin-1 characters appear under their names (eacute), which share the code point.
    if (cp !== undefined) return this.codepoints.has(cp) || (cp >= 0xa0 && cp <= 0xff && this.latin1(cp));
    return false;
  }

  private latin1(cp: number): boolean {
    return LATIN1_NAMES[cp - 0xa0] !== undefined && this.syms.has(LATIN1_NAMES[cp - 0xa0]!);
  }
}

// Keysym names of U+00A0..U+00FF, in order (X11 keysymdef.h).
const LATIN1_NAMES = (
  'nobreakspace exclamdown cent sterling currency yen brokenbar section diaeresis copyright ordfeminine guillemotleft ' +
  'notsign hyphen registered macron degree plusminus twosuperior threesuperior acute mu paragraph periodcentered ' +
  'cedilla onesuperior masculine guillemotright onequarter onehalf threequarters questiondown Agrave Aacute ' +
  'Acircumflex Atilde Adiaeresis Aring AE Ccedilla Egrave Eacute Ecircumflex Ediaeresis Igrave Iacute Icircumflex ' +
  'Idiaeresis ETH Ntilde Ograve Oacute Ocircumflex Otilde Odiaeresis multiply Oslash Ugrave Uacute Ucircumflex ' +
  'Udiaeresis Yacute THORN ssharp agrave aacute acircumflex atilde adiaeresis aring ae ccedilla egrave eacute ' +
  'ecircumflex ediaeresis igrave iacute icircumflex idiaeresis eth ntilde ograve oacute ocircumflex otilde ' +
  'odiaeresis division oslash ugrave uacute ucircumflex udiaeresis yacute thorn ydiaeresis'
).split(' ');

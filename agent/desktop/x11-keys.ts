import { KeyNotAvailableError } from './platform.ts';

export { KeyNotAvailableError };

/** pyautogui key names → X keysym names (what xdotool and xmodmap speak). */
const NAMED: Readonly<Record<string, string>> = {
  enter: 'Return', tab: 'Tab', space: 'space', backspace: 'BackSpace', delete: 'Delete', escape: 'Escape',
  insert: 'Insert', home: 'Home', end: 'End', pageup: 'Prior', pagedown: 'Next',
  up: 'Up', down: 'Down', left: 'Left', right: 'Right',
  ctrl: 'Control_L', ctrlleft: 'Control_L', ctrlright: 'Control_R',
  shift: 'Shift_L', shiftleft: 'Shift_L', shiftright: 'Shift_R',
  alt: 'Alt_L', altleft: 'Alt_L', altright: 'Alt_R', option: 'Alt_L', optionleft: 'Alt_L', optionright: 'Alt_R',
  win: 'Super_L', winleft: 'Super_L', winright: 'Super_R', command: 'Super_L',
  capslock: 'Caps_Lock', numlock: 'Num_Lock', scrolllock: 'Scroll_Lock',
  printscreen: 'Print', print: 'Print', pause: 'Pause', apps: 'Menu', help: 'Help', select: 'Select',
  execute: 'Execute', clear: 'Clear', sleep: 'XF86Sleep', stop: 'XF86AudioStop',
  add: 'KP_Add', subtract: 'KP_Subtract', multiply: 'KP_Multiply', divide: 'KP_Divide', decimal: 'KP_Decimal', separator: 'KP_Separator',
  volumeup: 'XF86AudioRaiseVolume', volumedown: 'XF86AudioLowerVolume', volumemute: 'XF86AudioMute',
  playpause: 'XF86AudioPlay', nexttrack: 'XF86AudioNext', prevtrack: 'XF86AudioPrev',
  browserback: 'XF86Back', browserforward: 'XF86Forward', browserrefresh: 'XF86Refresh', browserhome: 'XF86HomePage',
  browsersearch: 'XF86Search', browserfavorites: 'XF86Favorites', browserstop: 'XF86Stop',
  launchmail: 'XF86Mail', launchmediaselect: 'XF86AudioMedia', launchapp1: 'XF86Launch0', launchapp2: 'XF86Launch1',
  convert: 'Henkan', nonconvert: 'Muhenkan', modechange: 'Mode_switch', kana: 'Katakana', kanji: 'Kanji',
  hangul: 'Hangul', hanja: 'Hangul_Hanja', yen: 'yen',
  ...Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`f${i + 1}`, `F${i + 1}`])),
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`num${i}`, `KP_${i}`])),
};

/** Printable ASCII punctuation → keysym names. */
const PUNCTUATION: Readonly<Record<string, string>> = {
  ' ': 'space', '!': 'exclam', '"': 'quotedbl', '#': 'numbersign', $: 'dollar', '%': 'percent', '&': 'ampersand',
  "'": 'apostrophe', '(': 'parenleft', ')': 'parenright', '*': 'asterisk', '+': 'plus', ',': 'comma', '-': 'minus',
  '.': 'period', '/': 'slash', ':': 'colon', ';': 'semicolon', '<': 'less', '=': 'equal', '>': 'greater',
  '?': 'question', '@': 'at', '[': 'bracketleft', '\\': 'backslash', ']': 'bracketright', '^': 'asciicircum',
  _: 'underscore', '`': 'grave', '{': 'braceleft', '|': 'bar', '}': 'braceright', '~': 'asciitilde',
};

/** Keys that exist only inside the keyboard, or that X has no keysym for. */
const UNPRESSABLE = new Set(['fn', 'accept', 'final', 'junja']);


/** The X keysym for a pyautogui key name (canonical, as the parser produces). */
export function keysymFor(key: string): string {
  if (UNPRESSABLE.has(key)) throw new KeyNotAvailableError(`the '${key}' key cannot be pressed from software on X11`);
  if (Object.hasOwn(NAMED, key)) return NAMED[key]!;
  const chars = [...key];
  if (chars.length === 1) {
    const c = chars[0]!;
    if (/^[A-Za-z0-9]$/.test(c)) return c;
    if (Object.hasOwn(PUNCTUATION, c)) return PUNCTUATION[c]!;
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

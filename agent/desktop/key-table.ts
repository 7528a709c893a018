// The keys Kestrel can press, one table with a column per platform. Its rows are pyautogui's key
// names (canonical, as the parser produces them); its columns say what each platform calls that
// key: the X keysym (what xdotool and xmodmap speak) and nut-js's Key on Windows and on macOS.

/** A key's name per platform; undefined where that platform cannot press it from software. */
export interface KeyNames {
  readonly x11?: string;
  readonly windows?: string;
  readonly macos?: string;
}

/** '-' marks a platform without the key; a row without a macOS name uses the Windows one. */
const ROWS = `
  pyautogui      X11                    Windows       macOS
  enter          Return                 Enter
  tab            Tab                    Tab
  space          space                  Space
  backspace      BackSpace              Backspace
  delete         Delete                 Delete
  escape         Escape                 Escape
  insert         Insert                 Insert
  home           Home                   Home
  end            End                    End
  pageup         Prior                  PageUp
  pagedown       Next                   PageDown
  up             Up                     Up
  down           Down                   Down
  left           Left                   Left
  right          Right                  Right
  ctrl           Control_L              LeftControl
  ctrlleft       Control_L              LeftControl
  ctrlright      Control_R              RightControl
  shift          Shift_L                LeftShift
  shiftleft      Shift_L                LeftShift
  shiftright     Shift_R                RightShift
  alt            Alt_L                  LeftAlt
  altleft        Alt_L                  LeftAlt
  altright       Alt_R                  RightAlt
  option         Alt_L                  LeftAlt
  optionleft     Alt_L                  LeftAlt
  optionright    Alt_R                  RightAlt
  win            Super_L                LeftWin       LeftCmd
  winleft        Super_L                LeftWin       LeftCmd
  winright       Super_R                RightWin      RightCmd
  command        Super_L                LeftWin       LeftCmd
  capslock       Caps_Lock              CapsLock
  numlock        Num_Lock               NumLock
  scrolllock     Scroll_Lock            ScrollLock
  printscreen    Print                  Print
  print          Print                  Print
  pause          Pause                  -
  apps           Menu                   Menu
  help           Help                   -
  select         Select                 -
  execute        Execute                -
  clear          Clear                  Clear
  fn             -                      Fn
  sleep          XF86Sleep              -
  stop           XF86AudioStop          AudioStop
  add            KP_Add                 Add
  subtract       KP_Subtract            Subtract
  multiply       KP_Multiply            Multiply
  divide         KP_Divide              Divide
  decimal        KP_Decimal             Decimal
  separator      KP_Separator           -
  volumeup       XF86AudioRaiseVolume   AudioVolUp
  volumedown     XF86AudioLowerVolume   AudioVolDown
  volumemute     XF86AudioMute          AudioMute
  playpause      XF86AudioPlay          AudioPlay
  nexttrack      XF86AudioNext          AudioNext
  prevtrack      XF86AudioPrev          AudioPrev
  browserback    XF86Back               -
  browserforward XF86Forward            -
  browserrefresh XF86Refresh            -
  browserhome    XF86HomePage           -
  browsersearch  XF86Search             -
  browserfavorites XF86Favorites        -
  browserstop    XF86Stop               -
  launchmail     XF86Mail               -
  launchmediaselect XF86AudioMedia      -
  launchapp1     XF86Launch0            -
  launchapp2     XF86Launch1            -
  convert        Henkan                 -
  nonconvert     Muhenkan               -
  modechange     Mode_switch            -
  kana           Katakana               -
  kanji          Kanji                  -
  hangul         Hangul                 -
  hanja          Hangul_Hanja           -
  yen            yen                    -
  accept         -                      -
  final          -                      -
  junja          -                      -
`;

function readRows(text: string): Map<string, KeyNames> {
  const keys = new Map<string, KeyNames>();
  const [, ...rows] = text.trim().split('\n');
  for (const row of rows) {
    const [name, x11, windows, macos = windows] = row.trim().split(/\s+/) as [string, string, string, string?];
    const cell = (value: string | undefined) => (value === '-' ? undefined : value);
    keys.set(name, { x11: cell(x11), windows: cell(windows), macos: cell(macos) });
  }
  for (let i = 1; i <= 24; i++) keys.set(`f${i}`, { x11: `F${i}`, windows: `F${i}`, macos: `F${i}` });
  for (let i = 0; i <= 9; i++) keys.set(`num${i}`, { x11: `KP_${i}`, windows: `NumPad${i}`, macos: `NumPad${i}` });
  return keys;
}

/** Every named key (not single characters) and its name on each platform. */
export const NAMED_KEYS: ReadonlyMap<string, KeyNames> = readRows(ROWS);

/**
 * Printable ASCII punctuation: its X keysym, and for the unshifted characters of the base keys
 * the nut-js Key (US names; libnut maps each to the current layout's key). A shifted character
 * has no key of its own for nut-js: it is typed as text.
 */
export const PUNCTUATION: Readonly<Record<string, { readonly x11: string; readonly nut?: string }>> = {
  ' ': { x11: 'space', nut: 'Space' }, '!': { x11: 'exclam' }, '"': { x11: 'quotedbl' }, '#': { x11: 'numbersign' },
  $: { x11: 'dollar' }, '%': { x11: 'percent' }, '&': { x11: 'ampersand' }, "'": { x11: 'apostrophe', nut: 'Quote' },
  '(': { x11: 'parenleft' }, ')': { x11: 'parenright' }, '*': { x11: 'asterisk' }, '+': { x11: 'plus' },
  ',': { x11: 'comma', nut: 'Comma' }, '-': { x11: 'minus', nut: 'Minus' }, '.': { x11: 'period', nut: 'Period' },
  '/': { x11: 'slash', nut: 'Slash' }, ':': { x11: 'colon' }, ';': { x11: 'semicolon', nut: 'Semicolon' },
  '<': { x11: 'less' }, '=': { x11: 'equal', nut: 'Equal' }, '>': { x11: 'greater' }, '?': { x11: 'question' },
  '@': { x11: 'at' }, '[': { x11: 'bracketleft', nut: 'LeftBracket' }, '\\': { x11: 'backslash', nut: 'Backslash' },
  ']': { x11: 'bracketright', nut: 'RightBracket' }, '^': { x11: 'asciicircum' }, _: { x11: 'underscore' },
  '`': { x11: 'grave', nut: 'Grave' }, '{': { x11: 'braceleft' }, '|': { x11: 'bar' }, '}': { x11: 'braceright' },
  '~': { x11: 'asciitilde' },
};

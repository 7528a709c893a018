/**
 * OSWorld writes pointer and keyboard work as small Python scripts: set-up steps run
 * `python -c "import pyautogui; pyautogui.click(…); time.sleep(0.5)"` and trajectories store
 * `pyautogui.click(960, 540)` strings. Kestrel never runs that Python: it checks the script holds
 * only pyautogui calls and sleeps, then hands each call to its own parser and operator.
 */
export type ScriptSegment =
  | { readonly kind: 'pyautogui'; readonly code: string }
  | { readonly kind: 'sleep'; readonly seconds: number };

/** Splits Python source into statements at `;` and newlines outside strings and brackets. */
export function splitStatements(code: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: string | null = null;
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (quote) {
      current += c;
      if (c === '\\') current += code[++i] ?? '';
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === '#' && depth === 0) {
      while (i + 1 < code.length && code[i + 1] !== '\n') i++;
      continue;
    } else if ((c === ';' || c === '\n') && depth === 0) {
      if (current.trim()) statements.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

const IMPORT = /^import\s+(pyautogui|time)(\s*,\s*(pyautogui|time))*$/;
const SLEEP = /^time\.sleep\(\s*(\d+(?:\.\d*)?|\.\d+)\s*\)$/;
const CALL = /^pyautogui\.[a-zA-Z]\w*\(.*\)$/s;

/**
 * The segments of a pyautogui-only script, or the first statement that is something else
 * (which means the script must run as a real program, with consent).
 */
export function readPyautoguiScript(code: string): { segments: ScriptSegment[] } | { foreign: string } {
  const segments: ScriptSegment[] = [];
  for (const statement of splitStatements(code)) {
    if (IMPORT.test(statement)) continue;
    const sleep = SLEEP.exec(statement);
    if (sleep) segments.push({ kind: 'sleep', seconds: Number(sleep[1]) });
    else if (CALL.test(statement)) segments.push({ kind: 'pyautogui', code: statement });
    else return { foreign: statement };
  }
  return { segments };
}

/** `["python", "-c", code]` (or python3), the shape OSWorld's set-up steps use for pointer work. */
export function pythonInlineCode(argv: readonly string[]): string | undefined {
  if (argv.length !== 3 || !/^python3?$/.test(argv[0]!) || argv[1] !== '-c') return undefined;
  return argv[2];
}

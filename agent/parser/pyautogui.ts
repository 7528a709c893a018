import type { Action, MouseButton, NormalizedPoint } from '../actions.ts';
import { normalizeKeyName } from '../keys.ts';
import type { Literal, Statement } from './python-calls.ts';
import { named } from './python-calls.ts';
import { clip, PythonSyntaxError, quote } from './python-tokens.ts';

export interface CoordinateOptions {
  /** Pixel size of the screenshot the model saw; needed to read absolute pixel coordinates. */
  readonly imageSize?: { readonly width: number; readonly height: number };
  /**
   * 'auto' (default): a point with both values in 0..1 is normalised, anything larger is read
   * as pixels of `imageSize`. 'normalized' or 'pixels' force one reading.
   */
  readonly coordinates?: 'auto' | 'normalized' | 'pixels';
}

type Args = Readonly<Record<string, Literal | undefined>>;
type CallStatement = Extract<Statement, { kind: 'call' }>;

interface Spec {
  /** Parameter names in positional order; all may also be passed by keyword. */
  readonly params: readonly string[];
  /** Keyword-only spellings accepted as another name for a parameter. */
  readonly aliases?: Readonly<Record<string, string>>;
  readonly varargs?: boolean;
  build(args: Args, call: CallContext): Action[];
}

interface CallContext {
  readonly name: string;
  readonly line: number;
  readonly positional: readonly Literal[];
  fail(message: string): never;
  point(args: Args): NormalizedPoint | undefined;
}

const DEFAULT_WAIT_SECONDS = 1;

function button(value: Literal | undefined, call: CallContext, fallback: MouseButton = 'left'): MouseButton {
  if (value === undefined || value === null) return fallback;
  const names: Record<string, MouseButton> = { left: 'left', right: 'right', middle: 'middle', primary: 'left', secondary: 'right' };
  if (typeof value === 'string' && Object.hasOwn(names, value.toLowerCase())) return names[value.toLowerCase()]!;
  return call.fail(`button must be 'left', 'right' or 'middle', got ${quote(value)}`);
}

function count(value: Literal | undefined, what: string, call: CallContext, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return call.fail(`${what} must be a whole number, got ${quote(value)}`);
  }
  return value;
}

function text(value: Literal | undefined, what: string, call: CallContext): string {
  if (typeof value !== 'string') return call.fail(`${what} must be a string, got ${quote(value ?? null)}`);
  return value;
}

function key(value: Literal | undefined, call: CallContext): string {
  const name = text(value, 'a key name', call);
  const canonical = normalizeKeyName(name);
  if (canonical === undefined) {
    return call.fail(`unknown key ${quote(name)}; use pyautogui key names such as 'enter', 'ctrl', 'f5' or one character`);
  }
  return canonical;
}

function keyList(value: Literal | undefined, call: CallContext): string[] {
  if (Array.isArray(value)) return value.map((item) => key(item, call));
  return [key(value, call)];
}

function seconds(value: Literal | undefined, call: CallContext, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || value < 0 || value > 3600) {
    return call.fail(`seconds must be a number from 0 to 3600, got ${quote(value)}`);
  }
  return value;
}

function click(clicks: 1 | 2 | 3 | undefined, fixedButton?: MouseButton): Spec {
  return {
    params: clicks === undefined ? ['x', 'y', 'clicks', 'interval', 'button', 'duration', 'tween'] : ['x', 'y', 'interval', 'button', 'duration', 'tween'],
    build(args, call) {
      const n = clicks ?? count(args.clicks, 'clicks', call, 1);
      if (n < 1 || n > 3) return call.fail(`clicks must be 1, 2 or 3, got ${n}`);
      const at = call.point(args);
      const which = fixedButton ?? button(args.button, call);
      return [{ kind: 'click', button: which, count: n as 1 | 2 | 3, ...(at ? { at } : {}) }];
    },
  };
}

function scroll(horizontal: boolean): Spec {
  return {
    params: ['clicks', 'x', 'y'],
    build(args, call) {
      const clicks = args.clicks;
      if (typeof clicks !== 'number' || !Number.isFinite(clicks) || clicks === 0) {
        return call.fail(`scroll needs a non-zero number of clicks, got ${quote(clicks ?? null)}`);
      }
      const direction = horizontal ? (clicks > 0 ? 'right' : 'left') : clicks > 0 ? 'up' : 'down';
      const at = call.point(args);
      return [{ kind: 'scroll', direction, amount: Math.abs(clicks), ...(at ? { at } : {}) }];
    },
  };
}

function needPoint(args: Args, call: CallContext): NormalizedPoint {
  return call.point(args) ?? call.fail('needs x and y');
}

const typeSpec: Spec = {
  params: ['message', 'interval'],
  aliases: { text: 'message', string: 'message' },
  build(args, call) {
    // typewrite(['a', 'enter']) presses keys one after another.
    if (Array.isArray(args.message)) return keyList(args.message, call).map((k) => ({ kind: 'press', key: k, presses: 1 }));
    return [{ kind: 'type', text: text(args.message, 'the text to write', call) }];
  },
};

const mouseButtonSpec = (kind: 'mouse_down' | 'mouse_up'): Spec => ({
  params: ['x', 'y', 'button', 'duration', 'tween'],
  build(args, call) {
    const at = call.point(args);
    return [{ kind, button: button(args.button, call), ...(at ? { at } : {}) }];
  },
});

const PYAUTOGUI: Readonly<Record<string, Spec>> = {
  click: click(undefined),
  leftClick: click(1, 'left'),
  doubleClick: click(2),
  tripleClick: click(3),
  rightClick: click(1, 'right'),
  middleClick: click(1, 'middle'),
  moveTo: { params: ['x', 'y', 'duration', 'tween'], build: (args, call) => [{ kind: 'move', to: needPoint(args, call) }] },
  dragTo: {
    params: ['x', 'y', 'duration', 'tween', 'button', 'mouseDownUp'],
    build: (args, call) => [{ kind: 'drag', button: button(args.button, call), to: needPoint(args, call) }],
  },
  mouseDown: mouseButtonSpec('mouse_down'),
  mouseUp: mouseButtonSpec('mouse_up'),
  scroll: scroll(false),
  vscroll: scroll(false),
  hscroll: scroll(true),
  write: typeSpec,
  typewrite: typeSpec,
  press: {
    params: ['keys', 'presses', 'interval'],
    build(args, call) {
      const presses = count(args.presses, 'presses', call, 1);
      if (presses < 1 || presses > 100) return call.fail(`presses must be from 1 to 100, got ${presses}`);
      return keyList(args.keys, call).map((k) => ({ kind: 'press', key: k, presses }));
    },
  },
  hotkey: {
    params: [],
    aliases: {},
    varargs: true,
    build(_args, call) {
      const keys = call.positional.length === 1 && Array.isArray(call.positional[0]) ? (call.positional[0] as Literal[]) : call.positional;
      if (keys.length === 0) return call.fail('hotkey needs at least one key');
      return [{ kind: 'hotkey', keys: keys.map((k) => key(k, call)) }];
    },
  },
  keyDown: { params: ['key'], build: (args, call) => [{ kind: 'key_down', key: key(args.key, call) }] },
  keyUp: { params: ['key'], build: (args, call) => [{ kind: 'key_up', key: key(args.key, call) }] },
  sleep: { params: ['seconds'], build: (args, call) => [{ kind: 'wait', seconds: seconds(args.seconds, call, DEFAULT_WAIT_SECONDS) }] },
};

const COMPUTER: Readonly<Record<string, Spec>> = {
  wait: { params: ['seconds'], build: (args, call) => [{ kind: 'wait', seconds: seconds(args.seconds, call, DEFAULT_WAIT_SECONDS) }] },
  terminate: {
    params: ['status', 'answer'],
    build(args, call) {
      const status = args.status ?? 'success';
      const answer = args.answer === undefined || args.answer === null ? undefined : String(args.answer);
      if (status === 'success') return [{ kind: 'finished', ...(answer !== undefined ? { answer } : {}) }];
      if (status === 'failure' || status === 'fail') return [{ kind: 'fail', ...(answer !== undefined ? { reason: answer } : {}) }];
      return call.fail(`status must be 'success' or 'failure', got ${quote(status)}`);
    },
  },
  call_user: {
    params: ['message'],
    build: (args) => [{ kind: 'call_user', ...(typeof args.message === 'string' ? { message: args.message } : {}) }],
  },
};

const TIME: Readonly<Record<string, Spec>> = {
  sleep: { params: ['secs'], aliases: { seconds: 'secs' }, build: (args, call) => [{ kind: 'wait', seconds: seconds(args.secs, call, DEFAULT_WAIT_SECONDS) }] },
};

const MODULES: Readonly<Record<string, Readonly<Record<string, Spec>>>> = { pyautogui: PYAUTOGUI, computer: COMPUTER, time: TIME };

const WORDS: Readonly<Record<string, Action>> = {
  WAIT: { kind: 'wait', seconds: DEFAULT_WAIT_SECONDS },
  DONE: { kind: 'finished' },
  FAIL: { kind: 'fail' },
  CALL_USER: { kind: 'call_user' },
};

/** Modules whose import lines are harmless and ignored (they appear in OSWorld snippets). */
const ALLOWED_IMPORTS = new Set(['pyautogui', 'time']);

/** One call being turned into actions: its arguments' checks fail with the call's name and line. */
class Call implements CallContext {
  constructor(
    private readonly stmt: CallStatement,
    private readonly options: CoordinateOptions,
  ) {}

  get name(): string {
    return this.stmt.callee;
  }

  get line(): number {
    return this.stmt.line;
  }

  get positional(): readonly Literal[] {
    return this.stmt.args;
  }

  fail(message: string): never {
    throw new PythonSyntaxError(`${clip(this.stmt.callee, 60)}(): ${message}`, this.stmt.line);
  }

  point(args: Args): NormalizedPoint | undefined {
    let { x, y } = args;
    if (Array.isArray(x) && (y === undefined || y === null)) [x, y] = x as Literal[];
    if ((x === undefined || x === null) && (y === undefined || y === null)) return undefined;
    if (typeof x !== 'number' || typeof y !== 'number') {
      return this.fail(`x and y must both be numbers, got x=${quote(x ?? null)}, y=${quote(y ?? null)}`);
    }
    if (x < 0 || y < 0) return this.fail(`the point (${x}, ${y}) is negative`);
    const mode = this.options.coordinates ?? 'auto';
    if (mode === 'normalized' || (mode === 'auto' && x <= 1 && y <= 1)) {
      if (x > 1 || y > 1) return this.fail(`the point (${x}, ${y}) is outside 0..1 (normalised coordinates expected)`);
      return { x, y };
    }
    const size = this.options.imageSize;
    if (!size) return this.fail(`the point (${x}, ${y}) is outside 0..1 and no screenshot size is known to read it as pixels`);
    if (x > size.width || y > size.height) {
      return this.fail(`the point (${x}, ${y}) is outside the ${size.width}×${size.height} screenshot`);
    }
    return { x: x / size.width, y: y / size.height };
  }

  /** The arguments by parameter name. Names come from the reply: only the spec's own names are looked up. */
  bind(spec: Spec): Args {
    const { stmt } = this;
    const args: Record<string, Literal | undefined> = {};
    if (!spec.varargs) {
      if (stmt.args.length > spec.params.length) this.fail(`takes at most ${spec.params.length} positional arguments, got ${stmt.args.length}`);
      for (let i = 0; i < stmt.args.length; i++) args[spec.params[i]!] = stmt.args[i];
    }
    for (const [name, value] of stmt.kwargs) {
      const param = spec.aliases && Object.hasOwn(spec.aliases, name) ? spec.aliases[name]! : name;
      if (!spec.params.includes(param) && !(spec.varargs && name === 'interval')) this.fail(`has no argument ${named(name)}`);
      if (Object.hasOwn(args, param)) this.fail(`got '${param}' twice`);
      args[param] = value;
    }
    return args;
  }
}

/** Turns parsed statements into actions; throws PythonSyntaxError naming what was not understood. */
export function statementsToActions(statements: Iterable<Statement>, options: CoordinateOptions = {}): Action[] {
  const actions: Action[] = [];
  for (const stmt of statements) {
    if (stmt.kind === 'import') {
      const banned = stmt.modules.filter((m) => !ALLOWED_IMPORTS.has(m));
      if (banned.length > 0) throw new PythonSyntaxError(`importing ${named(banned.join(', '))} is not allowed (only pyautogui and time)`, stmt.line);
      continue;
    }
    if (stmt.kind === 'word') {
      const action = Object.hasOwn(WORDS, stmt.word) ? WORDS[stmt.word] : undefined;
      if (!action) throw new PythonSyntaxError(`${named(stmt.word)} is not understood; expected a pyautogui call, WAIT, DONE or FAIL`, stmt.line);
      actions.push(action);
      continue;
    }
    const dot = stmt.callee.indexOf('.');
    const module = dot < 0 ? '' : stmt.callee.slice(0, dot);
    const fn = stmt.callee.slice(dot + 1);
    const table = Object.hasOwn(MODULES, module) ? MODULES[module] : undefined;
    const spec = table && Object.hasOwn(table, fn) ? table[fn] : undefined;
    if (!spec) {
      throw new PythonSyntaxError(
        `${clip(stmt.callee, 60)}() is not an action Kestrel knows; use pyautogui.click/doubleClick/rightClick/moveTo/dragTo/scroll/hscroll/write/press/hotkey/keyDown/keyUp, computer.wait() or computer.terminate()`,
        stmt.line,
      );
    }
    const call = new Call(stmt, options);
    for (const action of spec.build(call.bind(spec), call)) actions.push(action);
  }
  return actions;
}

/**
 * The closed set of things the agent can do. Every point is generic so that one type serves
 * both sides of the coordinate mapping: the parser produces `Action<NormalizedPoint>`
 * (0..1 of the screenshot the model saw); the loop maps it to `Action<DesktopPoint>` (logical
 * desktop coordinates of the chosen display) for the operator.
 */

/** A position as a fraction (0..1) of the screenshot's width and height. */
export interface NormalizedPoint {
  readonly x: number;
  readonly y: number;
}

/** A position in the desktop's logical coordinate space (what nut-js and the OS pointer use). */
export interface DesktopPoint {
  readonly x: number;
  readonly y: number;
}

export type MouseButton = 'left' | 'right' | 'middle';
export type ScrollDirection = 'up' | 'down' | 'left' | 'right';

export type Action<P = NormalizedPoint> =
  /** Click `count` times; without `at`, where the pointer already is. */
  | { readonly kind: 'click'; readonly button: MouseButton; readonly count: 1 | 2 | 3; readonly at?: P }
  | { readonly kind: 'move'; readonly to: P }
  /** Press at `from` (or the current position), move to `to`, release. */
  | { readonly kind: 'drag'; readonly button: MouseButton; readonly from?: P; readonly to: P }
  | { readonly kind: 'mouse_down'; readonly button: MouseButton; readonly at?: P }
  | { readonly kind: 'mouse_up'; readonly button: MouseButton; readonly at?: P }
  /** `amount` in wheel clicks (pyautogui's unit), always positive; direction says which way. */
  | { readonly kind: 'scroll'; readonly direction: ScrollDirection; readonly amount: number; readonly at?: P }
  | { readonly kind: 'type'; readonly text: string }
  /** Key names use pyautogui's vocabulary ('enter', 'ctrl', 'f5', 'a', …), lower-case. */
  | { readonly kind: 'press'; readonly key: string; readonly presses: number }
  | { readonly kind: 'hotkey'; readonly keys: readonly string[] }
  | { readonly kind: 'key_down'; readonly key: string }
  | { readonly kind: 'key_up'; readonly key: string }
  | { readonly kind: 'wait'; readonly seconds: number }
  /** The task is done; `answer` carries the reply for question-style tasks. */
  | { readonly kind: 'finished'; readonly answer?: string }
  /** The task is infeasible or the agent gives up. */
  | { readonly kind: 'fail'; readonly reason?: string }
  /** The agent needs the person (a password, a decision). */
  | { readonly kind: 'call_user'; readonly message?: string };

export type ActionKind = Action['kind'];
export type DesktopAction = Action<DesktopPoint>;

/** Actions that end a run rather than touch the desktop. */
export type TerminalAction = Extract<Action, { kind: 'finished' | 'fail' | 'call_user' }>;

export function isTerminal<P>(action: Action<P>): action is Extract<Action<P>, { kind: 'finished' | 'fail' | 'call_user' }> {
  return action.kind === 'finished' || action.kind === 'fail' || action.kind === 'call_user';
}

/** Where an action aims (for markers and overlays); undefined for actions with no position. */
export function targetOf<P>(action: Action<P>): P | undefined {
  switch (action.kind) {
    case 'click':
    case 'mouse_down':
    case 'mouse_up':
    case 'scroll':
      return action.at;
    case 'move':
    case 'drag':
      return action.to;
    default:
      return undefined;
  }
}

/** Where each positioned action of a list aims, in order (actions with no position left out). */
export function targetsOf<P>(actions: readonly Action<P>[]): P[] {
  return actions.map((a) => targetOf(a)).filter((p): p is P => p !== undefined);
}

/** How `describeAction` writes a point and a piece of untrusted text, for where the line is shown. */
export interface ActionWording<P> {
  point(p: P): string;
  /** Quotes text from the model (what it types, its answer), escaped as the place needs. */
  quote(text: string): string;
}

/** One short phrase per action: the CLI's step lines (desktop pixels), the UI's timeline and screen-reader lines (fractions). */
export function describeAction<P>(action: Action<P>, wording: ActionWording<P>): string {
  const { point, quote } = wording;
  const at = (p: P | undefined): string => (p === undefined ? '' : ` at ${point(p)}`);
  switch (action.kind) {
    case 'click':
      return `${action.button === 'left' ? '' : `${action.button} `}${['', '', 'double-', 'triple-'][action.count]}click${at(action.at)}`;
    case 'move':
      return `move${at(action.to)}`;
    case 'drag':
      return `drag${action.from === undefined ? '' : ` from ${point(action.from)}`} to ${point(action.to)}`;
    case 'mouse_down':
    case 'mouse_up':
      return `${action.kind.replace('_', ' ')} ${action.button}${at(action.at)}`;
    case 'scroll':
      return `scroll ${action.direction} ${action.amount}${at(action.at)}`;
    case 'type':
      return `type ${quote(action.text)}`;
    case 'press':
      return `press ${action.key}${action.presses > 1 ? ` ×${action.presses}` : ''}`;
    case 'hotkey':
      return `hotkey ${action.keys.join('+')}`;
    case 'key_down':
    case 'key_up':
      return `${action.kind.replace('_', ' ')} ${action.key}`;
    case 'wait':
      return `wait ${action.seconds} s`;
    case 'finished':
      return action.answer === undefined ? 'done' : `done (answer: ${quote(action.answer)})`;
    case 'fail':
      return action.reason ? `give up (${quote(action.reason)})` : 'give up';
    case 'call_user':
      return action.message ? `ask the person (${quote(action.message)})` : 'ask the person';
  }
}

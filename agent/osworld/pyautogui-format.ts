import type { DesktopAction } from '../actions.ts';

const str = (text: string): string => JSON.stringify(text);
const at = (p: { x: number; y: number } | undefined): string => (p ? `${Math.round(p.x)}, ${Math.round(p.y)}` : '');

/**
 * A Kestrel action as the pyautogui code OSWorld's traj.jsonl holds, in absolute screen pixels
 * ("DONE" / "FAIL" / "WAIT" for the special actions), so its tooling can read our runs.
 */
export function toPyautoguiCode(action: DesktopAction): string {
  switch (action.kind) {
    case 'click': {
      const button = action.button === 'left' ? '' : `, button=${str(action.button)}`;
      const clicks = action.count === 1 ? '' : `, clicks=${action.count}`;
      const where = action.at ? `${at(action.at)}` : '';
      const args = [where, button.slice(2), clicks.slice(2)].filter(Boolean).join(', ');
      return `pyautogui.click(${args})`;
    }
    case 'move':
      return `pyautogui.moveTo(${at(action.to)})`;
    case 'drag':
      return `${action.from ? `pyautogui.moveTo(${at(action.from)}); ` : ''}pyautogui.dragTo(${at(action.to)}, button=${str(action.button)})`;
    case 'mouse_down':
      return `pyautogui.mouseDown(${action.at ? `${at(action.at)}, ` : ''}button=${str(action.button)})`;
    case 'mouse_up':
      return `pyautogui.mouseUp(${action.at ? `${at(action.at)}, ` : ''}button=${str(action.button)})`;
    case 'scroll': {
      const horizontal = action.direction === 'left' || action.direction === 'right';
      const sign = action.direction === 'up' || action.direction === 'right' ? 1 : -1;
      const where = action.at ? `, x=${Math.round(action.at.x)}, y=${Math.round(action.at.y)}` : '';
      return `pyautogui.${horizontal ? 'hscroll' : 'scroll'}(${sign * action.amount}${where})`;
    }
    case 'type':
      return `pyautogui.write(${str(action.text)})`;
    case 'press':
      return `pyautogui.press(${str(action.key)}${action.presses === 1 ? '' : `, presses=${action.presses}`})`;
    case 'hotkey':
      return `pyautogui.hotkey(${action.keys.map(str).join(', ')})`;
    case 'key_down':
      return `pyautogui.keyDown(${str(action.key)})`;
    case 'key_up':
      return `pyautogui.keyUp(${str(action.key)})`;
    case 'wait':
      return 'WAIT';
    case 'finished':
      return 'DONE';
    case 'fail':
      return 'FAIL';
    case 'call_user':
      return 'FAIL';
  }
}

import type { ChatMessage, ContentPart, ImageContent } from '../model.ts';
import { THINK_CLOSE } from '../parser/index.ts';
import { RUN_DEFAULTS } from '../loop/defaults.ts';

export type PromptVariant = 'instruct' | 'thinking';

/** A finished step as the prompt remembers it. */
export interface PromptHistoryStep {
  /** The model's reply for the step (thinking is stripped before it goes back in). */
  readonly response: string;
  /** The `## Action:` prose, used when the step is too old to keep its screenshot. */
  readonly description?: string;
  readonly code?: string;
  /** The screenshot the model saw for this step; hosts may drop it once the step is too old to send. */
  readonly screenshot?: ImageContent;
}

export interface AgentPromptInput {
  readonly instruction: string;
  readonly variant: PromptVariant;
  readonly history: readonly PromptHistoryStep[];
  readonly screenshot: ImageContent;
  /** Screenshots sent per request, the current one included (default 2). Older steps are text only. */
  readonly screenshotsInContext?: number;
}

const ACTION_SPACE = [
  'pyautogui.click(x=0.5, y=0.5)  # also doubleClick, tripleClick, rightClick, middleClick',
  'pyautogui.moveTo(x=0.5, y=0.5)',
  'pyautogui.dragTo(x=0.5, y=0.5)  # drags from the current pointer position',
  'pyautogui.scroll(-3)  # negative scrolls down; pyautogui.hscroll(2) scrolls right',
  "pyautogui.write('text to type')",
  "pyautogui.press('enter')",
  "pyautogui.hotkey('ctrl', 'c')",
  "pyautogui.keyDown('shift'); pyautogui.keyUp('shift')",
  'computer.wait()  # when the screen is still changing',
  "computer.terminate(status='success', answer='…')  # the task is done; status='failure' if it cannot be done",
].join('\n');

function systemPrompt(variant: PromptVariant): string {
  const think = variant === 'thinking' ? 'Think the step through first, then give your answer.\n' : '';
  return (
    'You are a GUI agent operating a computer through its screen, mouse and keyboard. ' +
    'You are given a task and a screenshot of the current screen. Choose the next step.\n' +
    think +
    'Reply in exactly this format:\n' +
    '## Action:\n<one sentence saying what you do and why>\n' +
    '## Code:\n```python\n<one or a few pyautogui calls>\n```\n' +
    'Coordinates are fractions of the screenshot width and height, from 0 to 1 (x=0.5, y=0.5 is the centre). ' +
    'Use only these calls, with literal arguments:\n' +
    ACTION_SPACE
  );
}

/** What the model did before, as prose: for steps whose screenshots are no longer sent. */
function summary(steps: readonly PromptHistoryStep[], offset: number): string {
  return steps
    .map((step, i) => `Step ${offset + i + 1}: ${(step.description ?? '').replace(/\s+/g, ' ').trim() || '(no description)'}${step.code ? ` — ${step.code.replace(/\s*\n\s*/g, '; ')}` : ''}`)
    .join('\n');
}

/** Previous assistant turns go back without their reasoning, as Kimi-VL's own demo does. */
export function stripThinking(response: string): string {
  const close = response.indexOf(THINK_CLOSE);
  return close >= 0 ? response.slice(close + THINK_CLOSE.length).trim() : response;
}

/**
 * Kimi-VL agent messages: the task, older steps as prose, the last few steps as
 * screenshot + reply pairs, then the current screenshot. Images come before text in a turn.
 */
export function agentMessages(input: AgentPromptInput): ChatMessage[] {
  const inContext = Math.max(1, input.screenshotsInContext ?? RUN_DEFAULTS.screenshots);
  const withImages = Math.min(input.history.length, inContext - 1);
  const older = input.history.slice(0, input.history.length - withImages);
  const recent = input.history.slice(input.history.length - withImages);
  let task = `Task: ${input.instruction}`;
  if (older.length > 0) task += `\n\nSteps taken so far:\n${summary(older, 0)}`;
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt(input.variant) },
    { role: 'user', content: task },
  ];
  for (const step of recent) {
    if (step.screenshot) messages.push({ role: 'user', content: [{ type: 'image', image: step.screenshot }] });
    messages.push({ role: 'assistant', content: stripThinking(step.response) });
  }
  const current: ContentPart[] = [
    { type: 'image', image: input.screenshot },
    { type: 'text', text: input.history.length === 0 ? 'This is the screen now. What is the first step?' : 'This is the screen now. What is the next step?' },
  ];
  messages.push({ role: 'user', content: current });
  return messages;
}

/** The follow-up after a reply that did not parse: the reply, then what was wrong with it. */
export function correctionMessages(badReply: string, error: string): ChatMessage[] {
  return [
    { role: 'assistant', content: stripThinking(badReply) },
    {
      role: 'user',
      content:
        `Your reply could not be used: ${error}. ` +
        'Reply again with a ## Action: section and a ## Code: section holding only the pyautogui or computer calls listed, with literal arguments.',
    },
  ];
}

/** Sampling defaults per variant, from the model cards. */
export function defaultGeneration(variant: PromptVariant): { maxTokens: number; temperature: number } {
  return variant === 'thinking' ? { maxTokens: 2048, temperature: 0.6 } : { maxTokens: 512, temperature: 0.2 };
}

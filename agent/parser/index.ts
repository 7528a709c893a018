export { parseKimiResponse, THINK_OPEN, THINK_CLOSE, type ParseResult, type ParseOptions } from './kimi-response.ts';
export type { CoordinateOptions } from './pyautogui.ts';

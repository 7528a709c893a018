import { clip, Lexer, PythonSyntaxError, quote, type Token } from './python-tokens.ts';

/** A literal argument: the only values a snippet may pass. */
export type Literal = number | string | boolean | null | readonly Literal[];

export type Statement =
  /** `pyautogui.click(x=0.5, y=0.2)`: a dotted callee with literal arguments. */
  | {
      readonly kind: 'call';
      readonly callee: string;
      readonly args: readonly Literal[];
      readonly kwargs: ReadonlyMap<string, Literal>;
      readonly line: number;
    }
  /** A bare upper-case word on its own: `WAIT`, `DONE`, `FAIL`. */
  | { readonly kind: 'word'; readonly word: string; readonly line: number }
  | { readonly kind: 'import'; readonly modules: readonly string[]; readonly line: number };

const SUBSET =
  'only calls with literal arguments are understood (no variables, expressions, loops or definitions)';

/** A name or dotted name from the reply, in single quotes, cut short when long (names need no escaping). */
export function named(text: string): string {
  return `'${clip(text, 60)}'`;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'name':
    case 'punct':
      return named(token.text);
    case 'number':
      return clip(token.text, 20);
    case 'string':
      return quote(token.value, 20);
    case 'end':
      return 'the end of the statement';
  }
}

const NO_KEYWORDS: ReadonlyMap<string, Literal> = new Map();

/**
 * Reads a snippet statement by statement without evaluating anything. Throws
 * PythonSyntaxError, with the line and what was not understood, for anything outside the subset.
 * A generator: the caller handles each statement before the next is read, and an error stops
 * the reading there.
 */
export function* parseStatements(src: string): Generator<Statement> {
  const lexer = new Lexer(src);
  const peek = (): Token => lexer.peek();
  const next = (): Token => lexer.next();
  const isPunct = (token: Token, text: string): token is Extract<Token, { kind: 'punct' }> => token.kind === 'punct' && token.text === text;
  const literal = (depth = 0): Literal => {
    const token = next();
    if (depth > 16) throw new PythonSyntaxError('lists are nested too deeply', token.line);
    if (token.kind === 'number' || token.kind === 'string') {
      let value: Literal = token.kind === 'number' ? token.value : token.value;
      // Python joins adjacent string literals.
      while (typeof value === 'string' && peek().kind === 'string') value += (next() as { value: string }).value;
      return value;
    }
    if (token.kind === 'punct' && (token.text === '-' || token.text === '+')) {
      const operand = next();
      if (operand.kind !== 'number') {
        throw new PythonSyntaxError(`${named(token.text)} must be followed by a number, not ${describe(operand)}`, token.line);
      }
      return token.text === '-' ? -operand.value : operand.value;
    }
    if (token.kind === 'name') {
      if (token.text === 'True') return true;
      if (token.text === 'False') return false;
      if (token.text === 'None') return null;
      throw new PythonSyntaxError(`the name ${named(token.text)} is used as a value; ${SUBSET}`, token.line);
    }
    if (isPunct(token, '(') || isPunct(token, '[')) {
      const close = token.text === '(' ? ')' : ']';
      const items: Literal[] = [];
      while (!isPunct(peek(), close)) {
        items.push(literal(depth + 1));
        if (isPunct(peek(), ',')) next();
        else if (!isPunct(peek(), close)) {
          throw new PythonSyntaxError(`expected ',' or '${close}' in a list but found ${describe(peek())}; ${SUBSET}`, peek().line);
        }
      }
      next();
      return items;
    }
    throw new PythonSyntaxError(`${describe(token)} is not a literal value; ${SUBSET}`, token.line);
  };

  const afterValue = (line: number, close: string): void => {
    const token = peek();
    if (isPunct(token, ',')) {
      next();
      return;
    }
    if (isPunct(token, close)) return;
    throw new PythonSyntaxError(`expected ',' or '${close}' after an argument but found ${describe(token)}; ${SUBSET}`, line);
  };

  const statement = (): Statement | undefined => {
    const first = next();
    if (first.kind === 'end') return undefined;
    if (first.kind !== 'name') {
      throw new PythonSyntaxError(`a statement starts with ${describe(first)}; ${SUBSET}`, first.line);
    }
    if (first.text === 'import') {
      const modules: string[] = [];
      for (;;) {
        const module = next();
        if (module.kind !== 'name') throw new PythonSyntaxError(`'import' must name a module, not ${describe(module)}`, first.line);
        modules.push(module.text);
        if (!isPunct(peek(), ',')) break;
        next();
      }
      return { kind: 'import', modules, line: first.line };
    }
    if (first.text === 'from') {
      throw new PythonSyntaxError(`'from … import' is not allowed; ${SUBSET}`, first.line);
    }
    const parts = [first.text];
    while (isPunct(peek(), '.')) {
      next();
      const part = next();
      if (part.kind !== 'name') throw new PythonSyntaxError(`expected a name after '.' but found ${describe(part)}`, part.line);
      parts.push(part.text);
    }
    const callee = parts.join('.');
    if (peek().kind === 'end' && parts.length === 1) return { kind: 'word', word: first.text, line: first.line };
    if (!isPunct(peek(), '(')) {
      throw new PythonSyntaxError(`${named(callee)} followed by ${describe(peek())} is not a call; ${SUBSET}`, first.line);
    }
    next();
    const args: Literal[] = [];
    let kwargs: Map<string, Literal> | undefined;
    while (!isPunct(peek(), ')')) {
      const token = peek();
      if (token.kind === 'name' && isPunct(lexer.peek(1), '=')) {
        next();
        next();
        kwargs ??= new Map();
        if (kwargs.has(token.text)) {
          throw new PythonSyntaxError(`the argument ${named(token.text)} is given twice in ${clip(callee, 60)}()`, token.line);
        }
        kwargs.set(token.text, literal());
      } else {
        if (kwargs) {
          throw new PythonSyntaxError(`a positional argument follows a keyword argument in ${clip(callee, 60)}()`, token.line);
        }
        args.push(literal());
      }
      afterValue(token.line, ')');
    }
    next();
    const end = next();
    if (end.kind !== 'end') {
      throw new PythonSyntaxError(`unexpected ${describe(end)} after ${clip(callee, 60)}(…); ${SUBSET}`, end.line);
    }
    return { kind: 'call', callee, args, kwargs: kwargs ?? NO_KEYWORDS, line: first.line };
  };

  while (!lexer.done) {
    const stmt = statement();
    if (stmt) yield stmt;
  }
}

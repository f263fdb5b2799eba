import { WeftError } from '@weft/contracts';

/**
 * `${{ ... }}` templates. A string that is exactly one expression yields the
 * expression's value (any type); a string mixing text and expressions yields a string.
 */
export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `offset` is where the CEL source starts inside the original string. */
  | { kind: 'expr'; source: string; offset: number };

const OPEN = '${{';
const CLOSE = '}}';

export class TemplateSyntaxError extends WeftError<'TEMPLATE_SYNTAX'> {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('TEMPLATE_SYNTAX', message);
  }
}

export function hasTemplate(text: string): boolean {
  return text.includes(OPEN);
}

export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf(OPEN, pos);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: text.slice(pos, open) });
    const close = findClose(text, open + OPEN.length);
    if (close < 0) throw new TemplateSyntaxError(`unterminated "\${{" (no closing "}}")`, open);
    const raw = text.slice(open + OPEN.length, close);
    const lead = raw.length - raw.trimStart().length;
    const source = raw.trim();
    if (source.length === 0) throw new TemplateSyntaxError('empty expression "${{ }}"', open);
    parts.push({ kind: 'expr', source, offset: open + OPEN.length + lead });
    pos = close + CLOSE.length;
  }
  return parts;
}

/** Finds the closing `}}`, skipping over string literals so `"}}"` inside CEL does not end it. */
function findClose(text: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '}' && text[i + 1] === '}') return i;
  }
  return -1;
}

/** The single expression of a string that is exactly `${{ expr }}`, else undefined. */
export function wholeExpression(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith(OPEN)) return undefined;
  const parts = parseTemplate(trimmed);
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.kind === 'expr' ? only.source : undefined;
}

/** Fields such as `if` accept a bare expression or one wrapped in `${{ }}`. */
export function unwrapExpression(text: string): string {
  return wholeExpression(text) ?? text.trim();
}

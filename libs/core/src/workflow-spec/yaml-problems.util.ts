import type { LineCounter, YAMLError } from 'yaml';

/** One YAML mistake as a person reads it: where, what, and how to fix it when we know. */
export interface YamlProblem {
  at: { line: number; col: number };
  message: string;
  hint?: string;
}

/** Past this many problems the rest nearly always follow from the first ones. */
export const MAX_YAML_PROBLEMS = 10;

/** The parser's own codes for a key that is not where its mapping expects it. */
const INDENT_CODES = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'MISSING_CHAR']);

const INDENT_HINT = 'keys of one mapping start in the same column; a nested mapping goes on the next lines, indented further';

/**
 * The parser reports one mistake several times (an unquoted `${{ }}` inside `{ }` gives five
 * errors on one line; a mis-indented key two): keep the first error of each line, explain the
 * common mistakes, and stop after MAX_YAML_PROBLEMS with a line saying how many more.
 * `describe` gives the plain message and hint of an error this module does not explain.
 */
export function yamlProblems(
  errors: readonly YAMLError[],
  text: string,
  lines: LineCounter,
  describe: (error: YAMLError) => { message: string; hint?: string },
): YamlProblem[] {
  const sourceLines = text.split('\n');
  const byLine = new Map<number, YamlProblem>();
  for (const error of errors) {
    const at = lines.linePos(error.pos[0]);
    const problem = explain(error, at, sourceLines) ?? { at, ...describe(error) };
    if (!byLine.has(problem.at.line)) byLine.set(problem.at.line, problem);
  }
  const problems = [...byLine.values()].sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
  if (problems.length <= MAX_YAML_PROBLEMS) return problems;
  const next = problems[MAX_YAML_PROBLEMS]?.at ?? { line: 1, col: 1 };
  const rest = problems.length - MAX_YAML_PROBLEMS;
  return [
    ...problems.slice(0, MAX_YAML_PROBLEMS),
    { at: next, message: `YAML: problems on ${rest} more line${rest === 1 ? '' : 's'} from line ${next.line} on (they often follow from the ones above)`, hint: 'fix these first, then validate again' },
  ];
}

function explain(error: YAMLError, at: { line: number; col: number }, source: readonly string[]): YamlProblem | undefined {
  const text = source[at.line - 1] ?? '';
  const expression = text.indexOf('${{');
  // `with: { message: ${{ inputs.x }} }`: inside { } or [ ], `{` opens another flow map.
  if (expression >= 0 && /[{[]/.test(text.slice(0, expression))) {
    const end = text.indexOf('}}', expression);
    const written = end >= 0 ? text.slice(expression, end + 2) : '${{ ... }}';
    return {
      at: { line: at.line, col: expression + 1 },
      message: `YAML: an unquoted ${written} inside { } or [ ] is read as YAML braces`,
      hint: `quote the expression: "${written.replace(/"/g, '\\"')}"`,
    };
  }
  if (!INDENT_CODES.has(error.code) || (error.code === 'MISSING_CHAR' && !error.message.includes('without - indicator'))) return undefined;
  // The parser points at the value the stray key ran into; the key is on a later line, indented further.
  const keyIndent = indentOf(text);
  for (let i = at.line; i < source.length && i < at.line + 3; i++) {
    const next = source[i] ?? '';
    if (next.trim() === '' || next.trim().startsWith('#')) continue;
    const indent = indentOf(next);
    const key = /^\s*(?:-\s+)?([^\s:#]+):/.exec(next)?.[1];
    if (key !== undefined && indent > keyIndent && error.code !== 'BAD_INDENT') {
      const above = /^\s*(?:-\s+)?([^\s:#]+):/.exec(text)?.[1] ?? 'the key above';
      return {
        at: { line: i + 1, col: indent + 1 },
        message: `YAML: mis-indented key "${key}": ${indent} spaces, more than "${above}" on the line above (${keyIndent})`,
        hint: INDENT_HINT,
      };
    }
    break;
  }
  const key = /^\s*(?:-\s+)?([^\s:#]+):/.exec(text)?.[1];
  return {
    at,
    message: key !== undefined ? `YAML: mis-indented key "${key}" (${indentOf(text)} spaces)` : `YAML: ${error.message.split('\n')[0] ?? error.message}`,
    hint: INDENT_HINT,
  };
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

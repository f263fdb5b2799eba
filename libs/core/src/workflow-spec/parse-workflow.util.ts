import { isSeq, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { type Diagnostic, DiagnosticCode, DiagnosticSink, hasErrors, nameSteps, sortDiagnostics } from './diagnostic.util';
import { reportSchemaIssues } from './schema-issues.util';
import { WorkflowSpec } from './spec.schema';
import { validateSpec } from './validate-spec.util';
import { YamlLocator } from './yaml-locator.util';
import { yamlProblems } from './yaml-problems.util';

export interface ParsedWorkflow {
  /** Present only when there is no error (warnings allowed). */
  spec?: WorkflowSpec;
  /** Every problem found, in reading order. */
  diagnostics: Diagnostic[];
}

/** Bounds alias expansion ("billion laughs") far above what a real workflow uses. */
const MAX_ALIAS_COUNT = 1000;

/** Most steps one workflow may have unless the caller says otherwise (WEFT_MAX_STEPS). */
export const DEFAULT_MAX_STEPS = 100_000;

export interface ParseWorkflowOptions {
  /** Most steps accepted; more is one TOO_MANY_STEPS error, found before the schema and semantic checks run. @default 100000 */
  maxSteps?: number;
}

/**
 * Parses and validates a workflow file (YAML, or JSON, which is YAML too). Pure: the caller
 * reads the file and passes its text; `file` only names it in diagnostics. Stops after
 * syntax errors, then after schema errors (the semantic checks need the right shape).
 */
export function parseWorkflow(text: string, file: string, options: ParseWorkflowOptions = {}): ParsedWorkflow {
  const tooDeep = nestingPast(text, MAX_YAML_DEPTH);
  if (tooDeep !== undefined) {
    // The YAML parser recurses per level: 10,000 levels cost it over a second before it overflows the stack.
    return {
      diagnostics: [
        { file, line: tooDeep.line, col: 1, path: '', code: DiagnosticCode.YamlSyntax, message: `YAML nested deeper than ${MAX_YAML_DEPTH} levels`, severity: 'error' },
      ],
    };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(doc, lines, text);
  const sink = new DiagnosticSink(file, locator.locate);
  const at = (offset: number) => lines.linePos(offset);
  // One message per mistake (the parser repeats itself), with a hint for the common ones.
  for (const problem of yamlProblems(doc.errors, text, lines, (error) => ({ message: yamlMessage(error, text), hint: yamlHint(error) })))
    sink.add([], DiagnosticCode.YamlSyntax, problem.message, { at: problem.at, hint: problem.hint });
  for (const warning of doc.warnings) sink.add([], DiagnosticCode.YamlWarning, yamlMessage(warning, text), { at: at(warning.pos[0]), severity: 'warning' });
  if (doc.errors.length > 0) return { diagnostics: sortDiagnostics(sink.diagnostics) };

  // Counted on the syntax tree: converting, schema-checking and validating a huge list is what costs.
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const steps = doc.get('steps', true);
  if (isSeq(steps) && steps.items.length > maxSteps) {
    sink.add(['steps'], DiagnosticCode.TooManySteps, `${steps.items.length} steps; at most ${maxSteps} are allowed`, {
      at: at(steps.range?.[0] ?? 0),
      hint: 'split the workflow, or raise WEFT_MAX_STEPS',
    });
    return { diagnostics: sortDiagnostics(sink.diagnostics) };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    sink.add([], DiagnosticCode.YamlSyntax, error instanceof Error ? error.message : String(error), { at: { line: 1, col: 1 } });
    return { diagnostics: sortDiagnostics(sink.diagnostics) };
  }

  const parsed = WorkflowSpec.safeParse(data);
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, data, WorkflowSpec, sink, (path) => locator.locateKey(path));
    return { diagnostics: sortDiagnostics(nameSteps(sink.diagnostics, data)) };
  }
  const diagnostics = sortDiagnostics(nameSteps([...sink.diagnostics, ...validateSpec(parsed.data, locator.locate, file)], data));
  return hasErrors(diagnostics) ? { diagnostics } : { spec: parsed.data, diagnostics };
}

/** Deepest nesting (block indentation levels plus flow brackets) a workflow file may have; real ones stay under 20. */
export const MAX_YAML_DEPTH = 128;

/**
 * The first line where the text nests deeper than `max`, counted in one pass without parsing:
 * block levels by indentation (and `- - ` sequences on one line), flow levels by brackets
 * outside quotes and comments. Conservative (text inside block scalars counts too), so it
 * may only refuse what is absurdly deep anyway.
 */
function nestingPast(text: string, max: number): { line: number } | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let line = 1;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      atLineStart = true;
      continue;
    }
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (atLineStart && flow === 0) {
      let j = i;
      while (text[j] === ' ') j++;
      if (text[j] !== '\n' && text[j] !== '#' && j < text.length) {
        const indent = j - i;
        while (indents.length > 0 && (indents[indents.length - 1] ?? 0) >= indent) indents.pop();
        indents.push(indent);
        let dashes = 0;
        while (text[j] === '-' && text[j + 1] === ' ') {
          dashes++;
          j += 2;
          while (text[j] === ' ') j++;
        }
        if (indents.length + dashes > max) return { line };
      }
    }
    atLineStart = false;
    // A quote opens a quoted scalar only where a scalar starts (`don't` in plain text is no quote).
    if ((c === '"' || c === "'") && /^$|[:\-[{,?]$/.test(text.slice(Math.max(0, i - 3), i).trimEnd().slice(-1))) quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      flow++;
      if (indents.length + flow > max) return { line };
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
  }
  return undefined;
}

function yamlMessage(error: YAMLError, text: string): string {
  const first = error.message.split('\n')[0] ?? error.message;
  if (error.code === 'DUPLICATE_KEY') {
    // The error's range covers only the key's first character; read the whole key.
    const key = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:\s,{}[\]]+)/.exec(text.slice(error.pos[0]))?.[0] ?? '';
    return `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`;
  }
  return `YAML: ${first}`;
}

function yamlHint(error: YAMLError): string | undefined {
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return 'indent with spaces';
    case 'DUPLICATE_KEY':
      return 'each key may appear once per mapping';
    case 'MULTIPLE_DOCS':
      return 'a workflow file holds one document; remove the extra ---';
    default:
      return undefined;
  }
}

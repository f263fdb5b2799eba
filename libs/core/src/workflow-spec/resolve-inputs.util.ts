import { DiagnosticCode, DiagnosticSink, type Diagnostic } from './diagnostic.util';
import { describeValue, matchesInputType, typeLabel } from './input-type.util';
import type { InputType, WorkflowSpec } from './spec.schema';
import { didYouMean } from './suggest.util';

export interface ResolveInputsOptions {
  /** Values come from the command line (`--input n=5`): convert strings to the declared type. */
  fromStrings?: boolean;
  /** Named in diagnostics; empty by default. */
  file?: string;
}

/**
 * The inputs of a run: given values checked against the declarations, defaults applied.
 * Reports every problem: unknown inputs, missing required ones, wrong types.
 */
export function resolveInputs(
  spec: WorkflowSpec,
  given: Record<string, unknown>,
  options: ResolveInputsOptions = {},
): { inputs: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const declared = spec.inputs ?? {};
  const sink = new DiagnosticSink(options.file ?? '');
  const inputs: Record<string, unknown> = {};
  const names = Object.keys(declared);
  for (const [name, raw] of Object.entries(given)) {
    const decl = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!decl) {
      sink.add(['inputs', name], DiagnosticCode.InputUnknown, `unknown input "${name}"${didYouMean(name, names)}`, {
        hint: names.length > 0 ? `declared inputs: ${names.join(', ')}` : `workflow "${spec.name}" declares no inputs`,
      });
      continue;
    }
    const value = options.fromStrings && typeof raw === 'string' ? coerce(raw, decl.type) : raw;
    if (!matchesInputType(value, decl.type)) {
      const json = options.fromStrings && (decl.type === 'object' || decl.type === 'array');
      sink.add(['inputs', name], DiagnosticCode.InputType, `input "${name}" must be ${typeLabel(decl.type)}, got ${describeValue(raw)}`, {
        hint: json ? `pass it as JSON, e.g. --input '${name}=${decl.type === 'array' ? '[1, 2]' : '{"key": "value"}'}'` : undefined,
      });
      continue;
    }
    inputs[name] = value;
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (Object.hasOwn(given, name)) continue;
    // Copied so that a run cannot change the spec's default through its inputs.
    if (decl.default !== undefined) inputs[name] = structuredClone(decl.default);
    else if (decl.required) {
      sink.add(['inputs', name], DiagnosticCode.InputMissing, `missing required input "${name}" (${decl.type})`, {
        hint: options.fromStrings ? `pass it with --input ${name}=<value>` : undefined,
      });
    }
  }
  return { inputs, diagnostics: sink.diagnostics };
}

/** A command-line string as the declared type; returned unchanged when it does not convert (the type check then reports it). */
function coerce(text: string, type: InputType): unknown {
  const trimmed = text.trim();
  switch (type) {
    case 'string':
      return text;
    case 'integer':
      return /^[-+]?\d+$/.test(trimmed) ? Number(trimmed) : text;
    case 'number':
      return trimmed.length > 0 && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
    case 'boolean':
      return trimmed === 'true' ? true : trimmed === 'false' ? false : text;
    case 'object':
    case 'array':
      try {
        return JSON.parse(trimmed) as unknown;
      } catch {
        return text;
      }
  }
}

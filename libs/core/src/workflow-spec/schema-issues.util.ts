import { z } from 'zod';
import { DiagnosticCode, type DiagnosticSink, type SpecPath } from './diagnostic.util';
import { describeValue } from './input-type.util';
import { didYouMean } from './suggest.util';

type Issue = z.core.$ZodIssue;
type Place = (path: SpecPath) => { line: number; col: number } | undefined;

/**
 * Zod issues as diagnostics a person can act on: named fields, the offending value,
 * the allowed values, a suggestion for typos. `placeKey` finds the key of a path (where
 * an unknown field or bad key is written); other issues are located by the sink.
 */
export function reportSchemaIssues(issues: readonly Issue[], data: unknown, schema: z.ZodType, sink: DiagnosticSink, placeKey: Place): void {
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const value = valueAt(data, path);
    const label = labelOf(path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schemaAt(schema, path));
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const suggestion = didYouMean(key, known);
        sink.add(keyPath, DiagnosticCode.UnknownField, `unknown field "${key}"${suggestion}`, {
          at: placeKey(keyPath),
          hint: suggestion === '' && known.length > 0 ? `allowed here: ${known.join(', ')}` : undefined,
        });
      }
      continue;
    }
    if (value === undefined && path.length > 0) {
      const expected = issue.code === 'invalid_value' && issue.values.length === 1 ? ` (${String(issue.values[0])})` : '';
      sink.add(path, DiagnosticCode.MissingField, `missing required field "${label}"${expected}`, { at: sink.locate?.(path.slice(0, -1)) });
      continue;
    }
    switch (issue.code) {
      case 'invalid_type':
        if (path.length === 0) {
          const what = value === null || value === undefined ? 'the document is empty' : `the document is ${describeValue(value)}`;
          sink.add(path, DiagnosticCode.InvalidType, `${what}: expected a workflow (apiVersion: weft/v1, kind: Workflow, name, steps)`);
        } else {
          sink.add(path, DiagnosticCode.InvalidType, `${label} must be ${expectedLabel(issue.expected)}, got ${describeValue(value)}`);
        }
        break;
      case 'invalid_value': {
        const allowed = issue.values.map(String);
        const suggestion = typeof value === 'string' && allowed.length > 1 ? didYouMean(value, allowed) : '';
        sink.add(path, DiagnosticCode.InvalidValue, `unsupported value ${shown(value)} for ${label}: expected ${alternatives(allowed)}${suggestion}`);
        break;
      }
      case 'invalid_format': {
        const reason = issue.message.startsWith('Invalid') ? `must match ${issue.pattern ?? issue.format}` : issue.message;
        sink.add(path, DiagnosticCode.InvalidFormat, `invalid ${label} ${shown(value)}: ${reason}`);
        break;
      }
      case 'too_small':
      case 'too_big':
        sink.add(path, DiagnosticCode.OutOfRange, rangeMessage(issue, label));
        break;
      case 'invalid_key': {
        const key = String(path[path.length - 1]);
        const parent = labelOf(path.slice(0, -1));
        const reason = issue.issues[0]?.message ?? issue.message;
        sink.add(path, DiagnosticCode.InvalidKey, `invalid key "${key}" in ${parent}: ${reason.startsWith('Invalid') ? 'not allowed here' : reason}`, { at: placeKey(path) });
        break;
      }
      case 'invalid_union':
      case 'invalid_element':
      case 'not_multiple_of':
      case 'custom':
        sink.add(path, DiagnosticCode.InvalidSpec, `${label}: ${issue.message}`);
        break;
    }
  }
}

function rangeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, label: string): string {
  // Messages written in the schema (e.g. "a workflow needs at least one step") beat generated ones.
  if (!issue.message.startsWith('Too ')) return issue.message;
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
      return `${label} must have ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`;
    case 'string':
      return small && bound === 1 ? `${label} must not be empty` : `${label} must be ${small ? 'at least' : 'at most'} ${bound} characters long`;
    default:
      return `${label} must be ${small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than'} ${bound}`;
  }
}

function expectedLabel(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'record':
    case 'object':
      return 'an object (a mapping of keys to values)';
    case 'array':
      return 'an array (a list)';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

function alternatives(values: string[]): string {
  if (values.length === 1) return values[0];
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `one of ${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : describeValue(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The field a path names, as people call it: `needs[0]`, `onFailure`. */
function labelOf(path: SpecPath): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'the document';
  if (typeof last === 'string') return last;
  const parent = path[path.length - 2];
  return typeof parent === 'string' ? `${parent}[${last}]` : `item ${last}`;
}

function valueAt(data: unknown, path: SpecPath): unknown {
  let at = data;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[part];
  }
  return at;
}

/** The schema that validates the value at `path`, through optionals, arrays and records. */
function schemaAt(schema: z.ZodType, path: SpecPath): z.ZodType | undefined {
  let at: z.ZodType | undefined = unwrap(schema);
  for (const part of path) {
    if (at instanceof z.ZodObject && typeof part === 'string') at = (at.shape as Record<string, z.ZodType>)[part];
    else if (at instanceof z.ZodArray && typeof part === 'number') at = at.element as z.ZodType;
    else if (at instanceof z.ZodRecord) at = at.valueType as z.ZodType;
    else return undefined;
    at = at === undefined ? undefined : unwrap(at);
  }
  return at;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let at = schema;
  while (at instanceof z.ZodOptional || at instanceof z.ZodNullable || at instanceof z.ZodDefault) at = at.unwrap() as z.ZodType;
  return at;
}

function knownKeys(schema: z.ZodType | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

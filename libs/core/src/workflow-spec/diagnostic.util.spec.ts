import { type Diagnostic, formatDiagnostic, formatPath, sortDiagnostics } from './diagnostic.util';

const base: Diagnostic = { file: 'flow.yaml', line: 12, col: 9, path: 'steps[2].needs[0]', code: 'UNKNOWN_NEED', message: 'unknown step "buidl" (did you mean "build"?)', severity: 'error' };

describe('formatPath', () => {
  it('writes indices in brackets and quotes keys that are not identifiers', () => {
    expect(formatPath(['steps', 2, 'needs', 0])).toBe('steps[2].needs[0]');
    expect(formatPath(['outputs', 'my key'])).toBe('outputs["my key"]');
    expect(formatPath([])).toBe('');
  });
});

describe('formatDiagnostic', () => {
  it('prints file:line:col severity path: message', () => {
    expect(formatDiagnostic(base)).toBe('flow.yaml:12:9 error steps[2].needs[0]: unknown step "buidl" (did you mean "build"?)');
  });

  it('leaves out what is unknown', () => {
    expect(formatDiagnostic({ ...base, line: 0, col: 0 })).toBe('flow.yaml error steps[2].needs[0]: unknown step "buidl" (did you mean "build"?)');
    expect(formatDiagnostic({ ...base, file: '', line: 0, col: 0, severity: 'warning' })).toBe('warning steps[2].needs[0]: unknown step "buidl" (did you mean "build"?)');
    expect(formatDiagnostic({ ...base, path: '' })).toBe('flow.yaml:12:9 error: unknown step "buidl" (did you mean "build"?)');
  });
});

describe('sortDiagnostics', () => {
  it('orders by line and column, unpositioned last, otherwise stable', () => {
    const at = (line: number, col: number, message: string): Diagnostic => ({ ...base, line, col, message });
    const sorted = sortDiagnostics([at(0, 0, 'a'), at(3, 2, 'b'), at(1, 5, 'c'), at(3, 2, 'd'), at(1, 1, 'e')]);
    expect(sorted.map((d) => d.message)).toEqual(['e', 'c', 'b', 'd', 'a']);
  });
});

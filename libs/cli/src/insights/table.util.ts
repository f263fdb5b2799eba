/** Plain aligned columns: headers, then rows, separated by two spaces; trailing blanks trimmed. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `${indent}${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(headers), ...rows.map(line)];
}

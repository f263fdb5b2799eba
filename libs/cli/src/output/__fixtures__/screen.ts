/**
 * A tiny terminal for tests: replays what a program wrote to a pseudo-terminal and returns
 * every line it left (scrolled-off lines first, then the screen). Enough of VT100 for the
 * live view: printable text with auto-wrap, CR, LF, cursor up/down/left/right, erase in line
 * and in display; colours and other sequences are ignored.
 */
export function replay(output: string, columns: number, rows: number): string[] {
  const scrolled: string[] = [];
  let screen: string[][] = Array.from({ length: rows }, () => []);
  let row = 0;
  let col = 0;
  const lineFeed = (): void => {
    if (row < rows - 1) row++;
    else {
      scrolled.push((screen.shift() ?? []).join(''));
      screen.push([]);
    }
  };
  for (let i = 0; i < output.length; i++) {
    const c = output[i] ?? '';
    if (c === '\x1b') {
      const csi = /^\x1b\[([?0-9;]*)([A-Za-z@])/.exec(output.slice(i, i + 16));
      if (!csi) {
        i++; // a two-character escape (ESC 7, ESC =): skip it
        continue;
      }
      i += csi[0].length - 1;
      const n = Number((csi[1] ?? '').replace('?', '').split(';')[0] || 0);
      const line = screen[row] ?? [];
      switch (csi[2]) {
        case 'A':
          row = Math.max(0, row - Math.max(1, n));
          break;
        case 'B':
          row = Math.min(rows - 1, row + Math.max(1, n));
          break;
        case 'C':
          col = Math.min(columns - 1, col + Math.max(1, n));
          break;
        case 'D':
          col = Math.max(0, col - Math.max(1, n));
          break;
        case 'G':
          col = Math.max(0, n - 1);
          break;
        case 'K':
          if (n === 0) line.length = Math.min(line.length, col);
          else if (n === 1) for (let k = 0; k <= col && k < line.length; k++) line[k] = ' ';
          else line.length = 0;
          break;
        case 'J':
          if (n === 0) {
            line.length = Math.min(line.length, col);
            for (let r = row + 1; r < rows; r++) screen[r] = [];
          } else if (n === 2 || n === 3) screen = Array.from({ length: rows }, () => []);
          break;
        default:
          break; // colours (m), modes (h/l), and the rest change no text
      }
      continue;
    }
    if (c === '\r') col = 0;
    else if (c === '\n') lineFeed();
    else if (c === '\b') col = Math.max(0, col - 1);
    else if (c >= ' ') {
      if (col >= columns) {
        col = 0;
        lineFeed();
      }
      const line = screen[row] ?? [];
      while (line.length < col) line.push(' ');
      line[col] = c;
      screen[row] = line;
      col++;
    }
  }
  const lines = [...scrolled, ...screen.map((l) => l.join(''))].map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

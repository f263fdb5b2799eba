/** Where a command writes; tests pass their own to capture output. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Live-redrawing view allowed (stdout is a terminal). */
  isTTY: boolean;
  /** Raw stdout write, for the live view. */
  write(text: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stdout.isTTY),
  write: (text) => process.stdout.write(text),
};

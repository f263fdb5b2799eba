import { ConfigError } from '@weft/config';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { InsightsCliError } from './insights-cli.errors';

/** Prints why the command failed and picks its exit code: 2 for what the user can fix, 70 otherwise. */
export function exitCodeFor(error: unknown, io: Io): number {
  if (error instanceof InsightsCliError) {
    io.err(error.message);
    switch (error.code) {
      case 'NOT_FOUND':
      case 'INVALID':
      case 'NO_EMBEDDED_DATA':
        return EXIT.invalid;
      case 'API_UNREACHABLE':
      case 'API_ERROR':
        return EXIT.internal;
    }
  }
  if (error instanceof ConfigError) {
    // A bad WEFT_API_URL / WEFT_API_KEY / WEFT_DATA_DIR: the user's to fix.
    io.err(error.message);
    return EXIT.invalid;
  }
  io.err(error instanceof Error ? error.message : String(error));
  return EXIT.internal;
}

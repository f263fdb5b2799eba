import { WeftError } from '@weft/contracts';

/** A command line that cannot work (bad flag values). Its own file: commands that never talk to an API need not load the API client. */
export class CliUsageError extends WeftError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}

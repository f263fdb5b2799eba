/** Stable, machine-readable reasons a bus call fails. */
export type BusErrorCode =
  | 'BUS_CLOSED'
  | 'INVALID_SUBJECT'
  | 'INVALID_OPTIONS'
  | 'NO_STREAM'
  | 'CONSUMER_CONFLICT'
  | 'UNSERIALISABLE'
  | 'BROKER_ERROR';

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusError';
  }
}

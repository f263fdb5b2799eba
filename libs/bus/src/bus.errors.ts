import { WeftError } from '@weft/contracts';

/** Stable, machine-readable reasons a bus call fails. */
export type BusErrorCode =
  | 'BUS_CLOSED'
  | 'INVALID_SUBJECT'
  | 'INVALID_OPTIONS'
  | 'NO_STREAM'
  | 'CONSUMER_CONFLICT'
  | 'UNSERIALISABLE'
  /** Bigger than the server's `max_payload` (JetStream): sending it again cannot succeed. */
  | 'PAYLOAD_TOO_LARGE'
  | 'BROKER_ERROR';

export class BusError extends WeftError<BusErrorCode> {}

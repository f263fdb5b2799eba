/**
 * How a committed transition that scheduled a timer brings the next timer scan forward
 * (short retry backoffs stay short). Implemented by ScanSchedule (timers/scan-schedule.ts).
 */
export interface TimerWakeups {
  /** Runs a scan `delayMs` from now when that is earlier than the one scheduled; never postpones it. */
  wakeAt(delayMs: number): void;
}

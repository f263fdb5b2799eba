import { detached } from '@weft/telemetry';
import type { TimerWakeups } from '../ports/timer-wakeups.port';

/**
 * When the next timer scan runs: one timeout, brought forward by `wakeAt` (a transition
 * that scheduled an earlier timer) and set by `next` (after each scan, from the earliest
 * pending timer). The scan itself is TimerScan's (timers/timer-scan.ts), given at `open`.
 */
export class ScanSchedule implements TimerWakeups {
  private timer: NodeJS.Timeout | undefined;
  private nextScanAt = Number.POSITIVE_INFINITY;
  private running = false;
  private scan: (() => void) | undefined;
  /** The earliest wake-up asked for since the running scan started (`after` keeps it). */
  private wokenDuringScan = Number.POSITIVE_INFINITY;

  /** Accepts wake-ups from now on; `scan` runs whenever the schedule is due. */
  open(scan: () => void): void {
    this.running = true;
    this.scan = scan;
  }

  close(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Brings the next scan forward to `delayMs` from now when that is earlier than the one
   * scheduled; never postpones it. Synchronous, so no scan scheduled meanwhile (the poll a
   * finishing scan sets) can be replaced by a later one.
   */
  wakeAt(delayMs: number): void {
    const delay = Math.max(0, delayMs);
    this.wokenDuringScan = Math.min(this.wokenDuringScan, Date.now() + delay);
    if (!this.running || Date.now() + delay >= this.nextScanAt) return;
    this.next(delay);
  }

  /**
   * After a scan: the next one `delayMs` from now, or sooner when a wake-up was asked for
   * while the scan ran (a transition arming an earlier timer after the scan read the timers).
   */
  after(delayMs: number): void {
    const woken = this.wokenDuringScan - Date.now();
    this.next(Math.max(0, Math.min(delayMs, woken)));
  }

  /** The next scan, `delayMs` from now (replacing the one scheduled). */
  next(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextScanAt = Date.now() + delayMs;
    // Detached: a timer callback would otherwise inherit the trace of the transition that scheduled it.
    this.timer = setTimeout(() => detached(() => {
      this.nextScanAt = Number.POSITIVE_INFINITY;
      this.wokenDuringScan = Number.POSITIVE_INFINITY;
      this.scan?.();
    }), delayMs);
  }
}

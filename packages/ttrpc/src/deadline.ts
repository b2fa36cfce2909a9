/**
 * The deadline timer of a call, on both sides: armed on the monotonic clock (a wall-clock jump
 * neither fires nor postpones it) and re-armed in steps for timeouts longer than a timer can wait.
 * @module
 */

/** `setTimeout` fires at once for delays over 2^31 − 1 ms (about 24.8 days): longer waits re-arm. */
export const MAX_TIMER_MS = 0x7fffffff;

/** What a deadline tells when it passes. */
export interface DeadlineOwner {
  /** The deadline passed. Called at most once, never after {@link Deadline.cancel}. */
  deadlineExpired(): void;
}

function fire(deadline: Deadline): void {
  deadline.check();
}

/** One armed deadline. */
export class Deadline {
  /** When it passes, on the `performance.now()` clock. */
  readonly at: number;
  /**
   * When it passes, as epoch milliseconds (what handlers read as `context.deadline`), taken from
   * the wall clock when armed: it reads like `Date.now()`, whatever the two clocks' drift.
   */
  readonly epochMs: number;
  readonly #owner: DeadlineOwner;
  #timer: NodeJS.Timeout | undefined;

  /** Arms a deadline `ms` from now; zero or less fires on the next turn of the event loop. */
  constructor(ms: number, owner: DeadlineOwner) {
    this.at = performance.now() + ms;
    this.epochMs = Date.now() + ms;
    this.#owner = owner;
    this.#timer = setTimeout(fire, Math.min(Math.max(0, ms), MAX_TIMER_MS), this);
  }

  /** Milliseconds left (negative once passed). */
  remaining(): number {
    return this.at - performance.now();
  }

  /** The timer fired: re-arm if time is left (a long timeout), else tell the owner. */
  check(): void {
    if (this.#timer === undefined) return;
    const left = this.at - performance.now();
    if (left > 0) {
      this.#timer = setTimeout(fire, Math.min(left, MAX_TIMER_MS), this);
      return;
    }
    this.#timer = undefined;
    this.#owner.deadlineExpired();
  }

  /** Disarms it: the owner hears nothing more. */
  cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

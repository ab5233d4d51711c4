// Log-in limits that slow guessing down without ever locking the owner out
// (issue 10). Per client address: at most 30 attempts in 15 minutes. Per
// account: 5 failures in 15 minutes cost nothing; after them, each attempt
// waits a delay that doubles with every further failure (1 s, 2 s, 4 s … at
// most 60 s), answered 429 with Retry-After while it waits. Successes never
// count.
//
// The wait is measured per client: each address keeps its own turn on the
// account (a new one queues first). An attacker failing from many addresses
// makes the delay longer, at most 60 s, but cannot take the owner's turn: the
// owner with the right password gets in once their own short wait is over.
import type { Db } from "../../db/schema.ts";
import { consume, forget, hit, RateLimitedError, refund, setTurn, takeTurn } from "../web/rate-limit.ts";

const WINDOW_MS = 15 * 60_000;
export const LOGIN_PER_IP = 30;
/** Failures of one account in the window before attempts on it have to wait. */
export const FREE_FAILURES = 5;
export const FIRST_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 60_000;

/** How long an attempt waits after `failures` failures of the account in the window. */
export const delayAfter = (failures: number): number =>
  failures < FREE_FAILURES ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - FREE_FAILURES));

export interface LoginAttempt {
  /** Records the outcome: a success takes the attempt back from every count. */
  finish(succeeded: boolean): Promise<void>;
}

/**
 * Lets a log-in attempt for `username` from `address` go ahead, or throws a
 * `RateLimitedError` saying how long to wait.
 */
export async function beginLogin(db: Db, username: string, address: string): Promise<LoginAttempt> {
  const account = username.trim().toLowerCase().slice(0, 30);
  const perAddress = await consume(db, `login:ip:${address}`, LOGIN_PER_IP, WINDOW_MS);
  // Counted as a failure up front, so concurrent guesses each see the others;
  // taken back if it turns out to be a success or never tries the password.
  const failure = await hit(db, `login:fail:${account}`, WINDOW_MS);
  const turn = `login:turn:${account}:${address}`;
  const before = failure.count - 1;
  if (before >= FREE_FAILURES) {
    const waitMs = await takeTurn(db, turn, delayAfter(before));
    if (waitMs > 0) {
      await refund(db, failure);
      const seconds = Math.ceil(waitMs / 1000);
      throw new RateLimitedError(
        `this account has had too many failed log-ins: wait ${seconds} second${seconds === 1 ? "" : "s"}, ` +
          "then try again",
        seconds,
      );
    }
  }
  return {
    async finish(succeeded) {
      if (succeeded) {
        await Promise.all([refund(db, failure), refund(db, perAddress), forget(db, turn)]);
      } else if (failure.count >= FREE_FAILURES) {
        // This client's next attempt waits the delay the account has reached.
        await setTurn(db, turn, delayAfter(failure.count));
      }
    },
  };
}

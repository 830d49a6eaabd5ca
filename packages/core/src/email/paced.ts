import type { Mailer } from './mailer';

export interface PaceOptions {
  /** SES calls started per second at most: the account's sending rate (or this process's share of it). */
  ratePerSecond: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A mailer that starts at most `ratePerSecond` SES calls a second, whoever calls it: invitations,
 * reminders, early warnings and summaries share the account's rate. Only real SES calls are
 * paced, so a job that turns out to have nothing to send (sent already, claimed by another run)
 * costs no slot.
 */
export function pacedMailer(mailer: Mailer, { ratePerSecond, now = Date.now, sleep = wait }: PaceOptions): Mailer {
  const gapMs = 1000 / ratePerSecond;
  let nextSlot = 0;
  return {
    async send(message) {
      const start = Math.max(nextSlot, now());
      nextSlot = start + gapMs;
      const delay = start - now();
      if (delay > 0) await sleep(delay);
      return mailer.send(message);
    },
  };
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

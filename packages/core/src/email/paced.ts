import type { Db } from '../db/client';
import { reserveSendingSlots } from '../db/sending-slots';
import type { Mailer } from './mailer';

/**
 * The account's SES sending rate in one process (the local runner), kept without waiting inside a
 * job: the queue takes a slot before starting a job; when none is due it does not wait for it but
 * starts the job when the slot comes (a timer in the queue). Slots are 1/rate apart; time not used
 * is not saved up beyond `burstMs` (SES counts its rate per second, and allows short bursts). The
 * sender Lambdas, many processes, share theirs in the table instead (`createSharedPacer`).
 */
export interface Pacer {
  /** Takes a slot if one is due now and returns 0; otherwise takes nothing and returns the milliseconds until one is due. */
  take(): number;
  /** Takes the next slot without waiting for it: a job's second SES call (a retry); the jobs after it wait longer. */
  charge(): void;
  /** Gives back the slot of a job that made no SES call (sent already, not an email): the next job may start that much earlier. */
  giveBack(): void;
}

export interface PaceOptions {
  /** SES calls started per second at most: the account's sending rate. */
  ratePerSecond: number;
  /**
   * How late a slot may be taken and still count as on time: after a quiet spell that many
   * milliseconds' worth of slots (at least one) are due at once. It absorbs a timer firing late
   * at high rates; default 0: one slot, nothing saved up.
   */
  burstMs?: number;
  now?: () => number;
}

/** Slots due at once after a quiet spell: `burstMs`' worth, at least one. */
const burstOf = (ratePerSecond: number, burstMs: number) => Math.max(1, Math.floor((burstMs * ratePerSecond) / 1000));

export function createPacer({ ratePerSecond, burstMs = 0, now = Date.now }: PaceOptions): Pacer {
  const gapMs = 1000 / ratePerSecond;
  const burst = burstOf(ratePerSecond, burstMs);
  // When the next slot is due; it never lags now by more than the burst.
  let next = -Infinity;
  const earliest = (t: number) => Math.max(next, t - (burst - 1) * gapMs);
  return {
    take() {
      const t = now();
      const due = earliest(t);
      if (due > t) return Math.ceil(due - t);
      next = due + gapMs;
      return 0;
    },
    charge() {
      next = earliest(now()) + gapMs;
    },
    giveBack() {
      next -= gapMs;
    },
  };
}

/**
 * The account's sending slots kept in one place for every process that sends: the sender Lambdas,
 * however many run and however often their containers are replaced (a `Pacer` per container would
 * start from now in a new container while slots its predecessor promised are still away in SQS).
 * A batch reserves a block of consecutive slots with one conditional write (`reserveSendingSlots`),
 * runs the jobs whose slot is due and hands the others back to SQS with theirs. Slots are 1/rate
 * apart for the whole account (SES's rate is the account's, per region), with `burstMs`' worth due
 * at once after a quiet spell, as in `createPacer`.
 */
export interface SharedPacer {
  /** Reserves the next `count` slots (epoch ms, in order) in one write; none when they would reach beyond `withinMs` from now. */
  reserve(count: number): Promise<number[]>;
  /** Takes the next slot for a job's second SES call (a retry), so the jobs after it wait longer. */
  charge(): Promise<void>;
  /**
   * Nothing: the slot of a job that made no SES call is lost (the account paces a little slower,
   * never faster). Giving it back would take a second write, and would be wrong once another
   * block has been reserved after it: the next block would overlap that one.
   */
  giveBack(): void;
}

export function createSharedPacer(db: Db, { ratePerSecond, burstMs = 0, now = Date.now, withinMs }: PaceOptions & { withinMs: number }): SharedPacer {
  const gapMs = 1000 / ratePerSecond;
  const burst = burstOf(ratePerSecond, burstMs);
  // The next free slot as this process last saw it: picks the write most likely to hold.
  let seen: number | undefined;
  const reserve = async (count: number) => {
    const t = now();
    const { first, next } = await reserveSendingSlots(db, { count, gapMs, earliest: t - (burst - 1) * gapMs, latest: t + withinMs }, seen);
    seen = next;
    return first === undefined ? [] : Array.from({ length: count }, (_, i) => first + i * gapMs);
  };
  return {
    reserve,
    async charge() {
      try {
        await reserve(1);
      } catch {
        // Not charged: SES is being retried after it refused the first call; an error here must
        // not pass for SES's answer to that retry.
      }
    },
    giveBack() {},
  };
}

/** What a job holding a slot tells its pacer: a further SES call, or none at all. */
export type SlotHolder = { charge(): void | Promise<void>; giveBack(): void };

/**
 * Runs a job that holds a slot, with a mailer that keeps count: its first SES call uses the slot,
 * any further one (SES's retry after throttling) is charged to the next slot; a job that made no SES
 * call gives its slot back, so only real SES calls are paced.
 */
export async function inSlot<T>(pacer: SlotHolder, mailer: Mailer, run: (mailer: Mailer) => Promise<T>): Promise<T> {
  let calls = 0;
  try {
    return await run({
      async send(message) {
        if (calls++ > 0) await pacer.charge();
        return mailer.send(message);
      },
    });
  } finally {
    if (calls === 0) pacer.giveBack();
  }
}

/**
 * How late a sending slot may be taken: at high rates a timer fires a few milliseconds late, and a
 * tenth of a second's worth of slots due at once makes up for it (SES allows short bursts).
 */
export const BURST_MS = 100;

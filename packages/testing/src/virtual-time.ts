/**
 * A virtual clock for running the real sending code (deliver, the recovery sweep, the pacer) on real engines over hours of system time in seconds of real time. Time moves only when
 * nothing is working: every piece of work runs through `run` (queue jobs, the scheduled job), and
 * a `sleep` (the retry backoff's), a queue delay or the wait for a sending slot is a timer that fires when
 * the clock gets there. Real I/O (DynamoDB Local, SES) takes no virtual time. No vitest import, so
 * `bench/` uses it too.
 */
import { createAgency, createCampaign, createPacer, createPro, createRound, inSlot, listInvitations, MAX_RECIPIENTS, runScheduledJobs, type Db, type DeliveryDeps, type DeliveryOutcome, type JobQueue, type Mailer, type Pacer, type SendJob } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { deliveryDeps, type Deps } from '@rapport/functions';

interface Timer {
  at: number;
  fire: () => void;
}

export interface VirtualTime {
  /** Virtual epoch milliseconds. */
  now(): number;
  date(): Date;
  /** Resolves when the clock has moved `ms` on. Only for work started through `run`. */
  sleep(ms: number): Promise<void>;
  /** Calls `fire` when the clock has moved `ms` on; nobody waits for it. */
  later(ms: number, fire: () => void): void;
  /** Runs `work` as busy: the clock waits for it (except while it sleeps). A throw ends `runUntil` with it. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Calls `work` (through `run`) every `ms` of virtual time, the first time `ms` from now. */
  every(ms: number, work: () => Promise<unknown>): void;
  /** Moves the clock timer by timer, each time everything is idle, until `done()` or `limitMs` of virtual time. */
  runUntil(done: () => boolean, limitMs: number): Promise<void>;
}

export function createVirtualTime(startMs: number): VirtualTime {
  let now = startMs;
  const timers: Timer[] = [];
  let busy = 0;
  let failure: unknown;
  const idle: Array<() => void> = [];
  const release = () => {
    if (--busy === 0) setImmediate(() => idle.splice(0).forEach((resolve) => resolve()));
  };

  const at = (when: number, fire: () => void) => {
    const timer = { at: when, fire };
    // Sorted by time, then order of arming; few timers are armed at once (sleepers, delayed jobs, the schedule).
    let i = timers.length;
    while (i > 0 && timers[i - 1]!.at > when) i--;
    timers.splice(i, 0, timer);
  };

  const vt: VirtualTime = {
    now: () => now,
    date: () => new Date(now),
    sleep(ms) {
      release();
      return new Promise((resolve) =>
        at(now + Math.max(0, ms), () => {
          busy++;
          resolve();
        }),
      );
    },
    later: (ms, fire) => at(now + Math.max(0, ms), fire),
    async run(work) {
      busy++;
      try {
        return await work();
      } catch (error) {
        failure ??= error;
        throw error;
      } finally {
        release();
      }
    },
    every(ms, work) {
      const arm = () =>
        at(now + ms, () => {
          arm();
          void vt.run(work).catch(() => undefined);
        });
      arm();
    },
    async runUntil(done, limitMs) {
      const limit = now + limitMs;
      for (;;) {
        // Idle: nothing busy, checked again after pending I/O callbacks and microtasks have run.
        while (busy > 0) await new Promise<void>((resolve) => idle.push(resolve));
        if (failure) throw failure;
        if (done()) return;
        const next = timers.shift();
        if (!next) throw new Error('Virtual time: nothing left to run, and not done');
        if (next.at > limit) throw new Error(`Virtual time: not done within ${limitMs} ms`);
        now = Math.max(now, next.at);
        next.fire();
      }
    },
  };
  return vt;
}

export interface VirtualQueue extends JobQueue {
  /** How many times each invitation's first-email job was put in the queue. */
  readonly enqueued: Map<string, number>;
}

/**
 * The in-process queue in virtual time: a delayed job joins the line when the clock reaches its
 * delay; `concurrency` jobs run at once, each through `vt.run`, each once `pacer` has a slot for it.
 */
export function virtualQueue(vt: VirtualTime, handle: (job: SendJob) => Promise<unknown>, { concurrency = 4, pacer }: { concurrency?: number; pacer?: Pacer } = {}): VirtualQueue {
  const line: SendJob[] = [];
  let head = 0;
  let running = 0;
  let slotArmed = false;
  const enqueued = new Map<string, number>();

  const pump = () => {
    while (running < concurrency && head < line.length) {
      const wait = pacer?.take() ?? 0;
      if (wait > 0) {
        if (!slotArmed) {
          slotArmed = true;
          vt.later(wait, () => {
            slotArmed = false;
            pump();
          });
        }
        break;
      }
      const job = line[head++]!;
      running++;
      void vt
        .run(() => handle(job))
        .catch(() => undefined)
        .finally(() => {
          running--;
          pump();
        });
    }
    // Drop what has been taken now and then, so a long backlog costs no quadratic shifting.
    if (head > 10_000 && head * 2 > line.length) {
      line.splice(0, head);
      head = 0;
    }
  };
  const join = (jobs: readonly SendJob[]) => {
    line.push(...jobs);
    pump();
  };

  return {
    enqueued,
    async enqueue(jobs, { delaySeconds = 0 } = {}) {
      for (const job of jobs) if (job.kind === 'invitation') enqueued.set(job.invitationId, (enqueued.get(job.invitationId) ?? 0) + 1);
      const held = [...jobs];
      if (delaySeconds > 0) vt.later(delaySeconds * 1000, () => join(held));
      else join(held);
    },
  };
}

export interface VirtualSenderOptions {
  /** The table, link secret, URLs and SES record the sender works with (`now`, `mailer`, `queue` are replaced). */
  deps: Deps;
  /** What the jobs send through once they hold a slot: SES, or a stub. */
  mailer: Mailer;
  /** The sending rate the queue's pacer keeps, per second of virtual time. */
  ratePerSecond: number;
  startMs: number;
  /** Jobs at once. Default 4, like the local runner. */
  concurrency?: number;
  /** How often the scheduled job runs. Default every 5 minutes, like the schedule on AWS. */
  scheduleMs?: number;
}

/**
 * The local runner's sending side in virtual time: the real send worker (`deliver`, with its
 * retries and re-queues) behind a virtual queue paced by the real `Pacer`, and the real scheduled job
 * (`runScheduledJobs`, the recovery sweep) every `scheduleMs`. Records when each invitation's
 * first email was sent (virtual time).
 */
export function virtualSender({ deps, mailer, ratePerSecond, startMs, concurrency = 4, scheduleMs = 5 * 60_000 }: VirtualSenderOptions) {
  const vt = createVirtualTime(startMs);
  const sentAt = new Map<string, number>();
  const outcomes = new Map<DeliveryOutcome, number>();
  const pacer = createPacer({ ratePerSecond, now: vt.now });
  const worker: DeliveryDeps = {
    ...deliveryDeps({ ...deps, now: vt.date, mailer }),
    sleep: vt.sleep,
    requeue: (job, delaySeconds) => queue.enqueue([job], { delaySeconds }),
  };
  const queue = virtualQueue(
    vt,
    async (job) => {
      const outcome = await inSlot(pacer, mailer, (slotMailer) => deliver({ ...worker, mailer: slotMailer }, job));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome === 'sent' && job.kind === 'invitation') sentAt.set(job.invitationId, vt.now());
    },
    { concurrency, pacer },
  );
  vt.every(scheduleMs, () => runScheduledJobs({ db: deps.db, queue, records: deps.records }, vt.date(), scheduleMs));
  return { vt, queue, sentAt, outcomes };
}

/**
 * A backlog of `size` invitations written as the API writes them (createRound, 2,000 recipients a
 * round, so leases and items are real), under one new agency and pro. Returns the rounds and the
 * jobs the route would queue.
 */
export async function seedBacklog(db: Db, size: number, now: Date, queued?: (jobs: SendJob[]) => Promise<void>) {
  const agency = await createAgency(db, { name: 'Backlog' }, now);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane', email: 'jane@backlog.example' }, now);
  const rounds: { roundId: string; size: number }[] = [];
  const jobs: SendJob[] = [];
  for (let first = 0; first < size; first += MAX_RECIPIENTS) {
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: `Part ${first}` }, now);
    const recipients = Array.from({ length: Math.min(MAX_RECIPIENTS, size - first) }, (_, i) => ({ email: `r${first + i}-${agency.agencyId.slice(3)}@backlog.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
    if (accepted.length !== recipients.length) throw new Error(`Backlog: ${recipients.length - accepted.length} recipients skipped`);
    rounds.push({ roundId: round.roundId, size: accepted.length });
    const roundJobs = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
    jobs.push(...roundJobs);
    // As POST /v1/campaigns/{id}/surveys queues a round's invitations once it is written.
    await queued?.(roundJobs);
  }
  return { rounds, jobs };
}

/** How many invitations of a round are in each status. */
export async function statusCounts(db: Db, roundId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let cursor: string | null | undefined; cursor !== null; ) {
    const page = await listInvitations(db, roundId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const i of page.items) counts[i.status] = (counts[i.status] ?? 0) + 1;
    cursor = page.nextCursor;
  }
  return counts;
}

import type { JobQueue, Pacer, SendJob } from '@rapport/core';
import { errorFields, logger } from '../logger';

export interface InProcessQueueOptions {
  /** Jobs running at once. */
  concurrency?: number;
  /**
   * The sending rate: a job starts only once it holds a slot (`handle` gives back the slot of a
   * job that sent nothing); until then it waits in the line, not in a running job.
   */
  pacer?: Pacer;
}

export interface InProcessQueue extends JobQueue {
  /** Resolves once every job enqueued so far has been handled. */
  drain(): Promise<void>;
  /** Stops taking jobs and waits for the ones running. */
  stop(): Promise<void>;
}

/**
 * The local runner's queue: jobs run in this process, `concurrency` at a time, each started when
 * the pacer has a slot for it (one timer waits for the next slot; no job sleeps). A job that throws is
 * logged and dropped: there is no dead-letter queue locally; its invitation keeps its lease, and
 * the recovery sweep picks it up when the lease runs out.
 */
export function createInProcessQueue(
  handle: (job: SendJob) => Promise<unknown>,
  { concurrency = 4, pacer }: InProcessQueueOptions = {},
): InProcessQueue {
  const waiting: SendJob[] = [];
  /** Jobs held back by a delay: they count as work not done, so `drain` waits for them too. */
  const delayed = new Set<NodeJS.Timeout>();
  const idle: Array<() => void> = [];
  let running = 0;
  let stopped = false;
  /** The timer that starts the next job when its slot is due. */
  let slotTimer: NodeJS.Timeout | undefined;

  const settleIfIdle = () => {
    if (running === 0 && waiting.length === 0 && delayed.size === 0) idle.splice(0).forEach((resolve) => resolve());
  };

  const pump = () => {
    while (!stopped && running < concurrency && waiting.length > 0) {
      const wait = pacer?.take() ?? 0;
      if (wait > 0) {
        slotTimer ??= setTimeout(() => {
          slotTimer = undefined;
          pump();
        }, wait);
        break;
      }
      const job = waiting.shift()!;
      running++;
      handle(job)
        .catch((error) =>
          logger.error('send job failed', { job, ...errorFields(error) }),
        )
        .finally(() => {
          running--;
          pump();
          settleIfIdle();
        });
    }
    settleIfIdle();
  };

  return {
    async enqueue(jobs, { delaySeconds = 0 } = {}) {
      if (stopped) throw new Error('The queue has stopped');
      if (delaySeconds <= 0) {
        waiting.push(...jobs);
        return pump();
      }
      const held = setTimeout(() => {
        delayed.delete(held);
        if (stopped) return settleIfIdle();
        waiting.push(...jobs);
        pump();
      }, delaySeconds * 1000);
      delayed.add(held);
    },
    drain: () => new Promise<void>((resolve) => {
      idle.push(resolve);
      settleIfIdle();
    }),
    async stop() {
      stopped = true;
      clearTimeout(slotTimer);
      // Dropped like the waiting jobs: the invitations are pending, and the scheduled job finds them.
      for (const t of delayed) clearTimeout(t);
      delayed.clear();
      waiting.length = 0;
      await new Promise<void>((resolve) => {
        idle.push(resolve);
        settleIfIdle();
      });
    },
  };
}

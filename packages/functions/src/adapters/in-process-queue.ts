import type { JobQueue, SendJob } from '@rapport/core';

export interface InProcessQueueOptions {
  /** Jobs started per second at most: SES's sending rate. */
  ratePerSecond: number;
  concurrency?: number;
}

export interface InProcessQueue extends JobQueue {
  /** Resolves once every job enqueued so far has been handled. */
  drain(): Promise<void>;
  /** Stops taking jobs and waits for the ones running. */
  stop(): Promise<void>;
}

/**
 * The local runner's queue: jobs run in this process, at most `ratePerSecond` starting per second
 * (SES's sending rate) and `concurrency` at a time. A job that throws is logged and dropped: there
 * is no dead-letter queue locally, and the invitation stays visible in its last status.
 */
export function createInProcessQueue(
  handle: (job: SendJob) => Promise<unknown>,
  { ratePerSecond, concurrency = 4 }: InProcessQueueOptions,
): InProcessQueue {
  const waiting: SendJob[] = [];
  /** Jobs held back by a delay: they count as work not done, so `drain` waits for them too. */
  const delayed = new Set<NodeJS.Timeout>();
  const idle: Array<() => void> = [];
  let running = 0;
  let stopped = false;
  let nextStart = 0;
  let timer: NodeJS.Timeout | undefined;

  const settleIfIdle = () => {
    if (running === 0 && waiting.length === 0 && delayed.size === 0) idle.splice(0).forEach((resolve) => resolve());
  };

  const pump = () => {
    timer = undefined;
    while (!stopped && running < concurrency && waiting.length > 0) {
      const wait = nextStart - Date.now();
      if (wait > 0) {
        timer ??= setTimeout(pump, wait);
        return;
      }
      nextStart = Math.max(nextStart, Date.now()) + 1000 / ratePerSecond;
      const job = waiting.shift()!;
      running++;
      handle(job)
        .catch((error) =>
          console.error(JSON.stringify({ level: 'error', message: 'send job failed', job, error: String(error) })),
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
      const timer = setTimeout(() => {
        delayed.delete(timer);
        if (stopped) return settleIfIdle();
        waiting.push(...jobs);
        pump();
      }, delaySeconds * 1000);
      delayed.add(timer);
    },
    drain: () => new Promise<void>((resolve) => {
      idle.push(resolve);
      settleIfIdle();
    }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
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

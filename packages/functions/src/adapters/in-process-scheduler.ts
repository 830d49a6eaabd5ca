import { errorFields, logger } from '../logger';
export interface InProcessScheduler {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * The local runner's stand-in for a cron schedule: runs `job` at once and then every
 * `intervalMs`, never two runs at a time. A failed run is logged and the next one goes ahead.
 */
export function startInProcessScheduler(name: string, job: () => Promise<unknown>, intervalMs: number): InProcessScheduler {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= job()
      .then(
        () => undefined,
        (error) => logger.error(`${name} failed`, errorFields(error)),
      )
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

import { describe, expect, it, vi } from 'vitest';
import type { SendJob } from '@rapport/core';
import { createInProcessQueue } from './in-process-queue';
import { startInProcessScheduler } from './in-process-scheduler';

const job = (n: number): SendJob => ({ kind: 'invitation', roundId: 'rnd_x', invitationId: `inv_${n}` });
const idOf = (j: SendJob) => ('invitationId' in j ? j.invitationId : j.kind);

/** A promise the test resolves by hand, to hold a job or a run open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('the in-process queue', () => {
  it('runs every job once, at most `concurrency` at a time, and drain waits for them', async () => {
    let running = 0;
    let most = 0;
    const handled: string[] = [];
    const queue = createInProcessQueue(
      async (j) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        handled.push(idOf(j));
        running--;
      },
      { concurrency: 3 },
    );
    await queue.enqueue(Array.from({ length: 10 }, (_, i) => job(i)));
    await queue.drain();
    expect(handled.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `inv_${i}`).sort());
    expect(most).toBe(3);
  });

  it('logs a failed job and goes on with the next', async () => {
    // The logger writes its JSON lines to stderr.
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const handled: string[] = [];
    const queue = createInProcessQueue(
      async (j) => {
        if (idOf(j) === 'inv_0') throw new Error('boom');
        handled.push(idOf(j));
      },
    );
    await queue.enqueue([job(0), job(1)]);
    await queue.drain();
    expect(handled).toEqual(['inv_1']);
    const lines = errors.mock.calls.map(([chunk]) => JSON.parse(String(chunk)));
    expect(lines).toEqual([expect.objectContaining({ level: 'ERROR', message: 'send job failed', error: { name: 'Error', message: 'boom' } })]);
    errors.mockRestore();
  });

  it('on stop, lets the running job finish, drops the waiting ones and refuses new ones', async () => {
    const hold = gate();
    const handled: string[] = [];
    const queue = createInProcessQueue(
      async (j) => {
        await hold.opened;
        handled.push(idOf(j));
      },
      { concurrency: 1 },
    );
    await queue.enqueue([job(0), job(1), job(2)]);
    const stopped = queue.stop();
    hold.open();
    await stopped;
    expect(handled).toEqual(['inv_0']);
    await expect(queue.enqueue([job(3)])).rejects.toThrow('The queue has stopped');
  });
});

describe('the in-process scheduler', () => {
  it('runs at once, never two runs at a time, and stop waits for the run in progress', async () => {
    const hold = gate();
    let runs = 0;
    let finished = 0;
    const scheduler = startInProcessScheduler('test job', async () => {
      runs++;
      await hold.opened;
      finished++;
    }, 5);
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(runs).toBe(1); // still the first run: ticks meanwhile were skipped
    const stopped = scheduler.stop();
    hold.open();
    await stopped;
    expect(finished).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
  });

  it('logs a failed run and runs again at the next tick', async () => {
    // The logger writes its JSON lines to stderr.
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let runs = 0;
    const twice = gate();
    const scheduler = startInProcessScheduler('flaky job', async () => {
      if (++runs === 2) twice.open();
      if (runs === 1) throw new Error('table gone');
    }, 5);
    await twice.opened;
    await scheduler.stop();
    expect(JSON.parse(String(errors.mock.calls[0]![0]))).toMatchObject({ level: 'ERROR', message: 'flaky job failed', error: { name: 'Error', message: 'table gone' } });
    errors.mockRestore();
  });
});

import type { Db } from '../db/client';
import { REMINDER_PARTITIONS } from '../db/keys';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import type { JobQueue, SendJob } from '../sending/queue';

/**
 * Queues a reminder job for every invitation whose reminder is due by `now`, found through the
 * sparse reminder index (no Scan). Finding one twice is harmless: the worker claims each reminder
 * with a conditional write. Returns how many jobs were queued.
 */
export async function enqueueDueReminders(db: Db, queue: JobQueue, now: Date): Promise<number> {
  const counts = await Promise.all(
    REMINDER_PARTITIONS.map(async (partition) => {
      let queued = 0;
      for await (const items of queryAll(db, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :now',
        ExpressionAttributeValues: { ':pk': partition, ':now': iso(now) },
      })) {
        const jobs = items.map(
          (item): SendJob => ({ kind: 'reminder', roundId: item.roundId as string, invitationId: item.invitationId as string, dueAt: item.nextReminderAt as string }),
        );
        await queue.enqueue(jobs);
        queued += jobs.length;
      }
      return queued;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

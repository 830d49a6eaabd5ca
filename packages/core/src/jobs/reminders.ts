import type { Db } from '../db/client';
import { keys, REMINDER_PARTITIONS } from '../db/keys';
import { mapConcurrent } from '../db/batch';
import { queryAll } from '../db/page';
import { updateIfUnchanged } from '../db/transact';
import { iso } from '../shared/time';
import { queueLeaseMs } from '../sending/lease';
import type { JobQueue, SendJob } from '../sending/queue';

/**
 * Queues a reminder job for every invitation whose reminder is due by `now`, found through the
 * sparse reminder index (no Scan). A reminder that came due since the last run (`sinceMs`: the
 * scheduled job's period, hourly on AWS) is queued as it is: its claim, a moment later, takes it
 * out of the index, so the run after finds it only if its job is late or lost. One found again (its job late behind a
 * backlog, or lost) moves on in the index to the end of a queue lease (15 minutes, doubling with
 * each time it is queued again, like a first email's), so a backlog is not queued again every
 * run; its due time (`nextReminderAt`, what the worker's claim checks) stays. Finding one twice is
 * harmless: the worker claims each reminder with a conditional write. Returns how many jobs were
 * queued.
 */
export async function enqueueDueReminders(db: Db, queue: JobQueue, now: Date, sinceMs: number): Promise<number> {
  const counts = await Promise.all(
    REMINDER_PARTITIONS.map(async (partition) => {
      let queued = 0;
      for await (const items of queryAll(db, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :now',
        ExpressionAttributeValues: { ':pk': partition, ':now': iso(now) },
      })) {
        const jobs: SendJob[] = [];
        await mapConcurrent(items, 8, async (item) => {
          const ref = { roundId: item.roundId as string, invitationId: item.invitationId as string };
          const due = item.nextReminderAt as string;
          const job: SendJob = { kind: 'reminder', ...ref, dueAt: due };
          const queues = ((item.reminderQueues as number | undefined) ?? 0) + 1;
          if (queues === 1 && due > iso(new Date(now.getTime() - sinceMs))) return void jobs.push(job);
          const lease = keys.reminderDue(ref.roundId, ref.invitationId, iso(new Date(now.getTime() + queueLeaseMs(queues - 1))));
          const taken = await updateIfUnchanged(db, {
            Key: keys.invitation(ref.roundId, ref.invitationId),
            UpdateExpression: 'SET GSI1SK = :lease, reminderQueues = :queues',
            ConditionExpression: 'GSI1SK = :read AND nextReminderAt = :due',
            ExpressionAttributeValues: { ':lease': lease.GSI1SK, ':queues': queues, ':read': item.GSI1SK, ':due': due },
          });
          if (taken) jobs.push(job);
        });
        // Leased first, queued after: if queuing fails, the lease runs out and the next run tries
        // again (one seen first is found again by the next run).
        await queue.enqueue(jobs);
        queued += jobs.length;
      }
      return queued;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

import { describe, expect, it } from 'vitest';
import { isolatedTestDeps, meterCapacity, seedAgencies } from '@rapport/testing';
import { mapConcurrent } from '../db/batch';
import { type DeliveryDeps } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import type { SendJob } from '../sending/queue';
import type { Mailer } from '../email/mailer';
import { runSummaries } from '../summary/job';
import { runScheduledJobs } from './index';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A Tuesday: the agencies' weekly slot (Monday 09:00 UTC) passed the day before. */
const SEEDED = new Date('2030-09-03T10:00:00Z');
/** Seeded pros are quiet: nothing is ever sent. */
const noMail: Mailer = { send: () => Promise.reject(new Error('an idle job sent an email')) };

/**
 * What an idle run of each periodic job costs on a table of `agencies` agencies of 10 pros, each
 * with an open and a closed round: the scheduled job a minute after the seeding (nothing due), the
 * summary job once the period's run is complete and the agencies have moved on to their next slot.
 */
async function idleCalls(agencies: number) {
  const { db, records } = await isolatedTestDeps();
  await seedAgencies(db, { agencies, prosPerAgency: 10, at: SEEDED });
  const meter = meterCapacity(db);
  const queued: SendJob[] = [];
  const queue = { enqueue: async (jobs: SendJob[]) => void queued.push(...jobs) };

  meter.reset();
  const scheduled = await runScheduledJobs({ db, queue, records }, new Date(SEEDED.getTime() + MINUTE));
  const scheduledCalls = meter.read().calls;

  const summaries = async (at: Date) => {
    const deps: DeliveryDeps = { db, mailer: noMail, linkSecret: 'test-link-secret-that-is-long-enough-0123456789', mailFrom: 'summaries@rapport.example', publicUrl: 'http://localhost:3000', now: () => at, requeue: async (job) => void queued.push(job) };
    const run = await runSummaries({ db, queue }, at);
    while (queued.length > 0) await mapConcurrent(queued.splice(0), 8, (job) => deliver(deps, job));
    return run;
  };
  // The first run of the period lists every agency's quiet pros; the next moves the agencies on.
  await summaries(new Date(SEEDED.getTime() + HOUR));
  await summaries(new Date(SEEDED.getTime() + 2 * HOUR));
  meter.reset();
  const summary = await summaries(new Date(SEEDED.getTime() + 3 * HOUR));
  const summaryCalls = meter.read().calls;
  db.client.destroy();
  return { scheduled, scheduledCalls, summary, summaryCalls, queued: queued.length };
}

describe('the periodic jobs when nothing is due', () => {
  it('cost the same DynamoDB calls with 2 agencies (20 pros, 4 rounds) as with 20 (200 pros, 40 rounds): 15 for the scheduled job, 1 for the summary job', async () => {
    const small = await idleCalls(2);
    const large = await idleCalls(20);
    const nothing = { roundsToClose: 0, releasesFinished: 0, remindersQueued: 0, requeued: 0, recorded: 0, resent: 0, eventsFannedOut: 0, deliveriesQueued: 0, retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 };
    for (const idle of [small, large]) {
      expect(idle.scheduled).toEqual(nothing);
      expect(idle.summary).toEqual({ agenciesDue: 0, agenciesQueued: 0 });
      expect(idle.queued).toBe(0);
    }
    // One query per due index partition: closes 1, releases 1, reminders 4, leases 4, webhooks 4, retention 1.
    expect(small.scheduledCalls).toBe(15);
    expect(large.scheduledCalls).toBe(small.scheduledCalls);
    // The summary due index's query, which reads nothing.
    expect(small.summaryCalls).toBe(1);
    expect(large.summaryCalls).toBe(small.summaryCalls);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isolatedTestDeps, meterCapacity, putPros, sesEmails } from '@rapport/testing';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { MailerError, type Mailer } from '../email/mailer';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from '../survey/round';
import { submitResponse } from '../survey/response';
import { closeRound } from '../jobs/expiry';
import { mapConcurrent } from '../db/batch';
import { type DeliveryDeps, type DeliveryOutcome } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import type { SendJob } from '../sending/queue';
import type { SendRecords } from '../sending/records';
import { recoverSends } from '../jobs/recovery';
import type { Audience } from '../survey/instrument';
import { TIPS } from './tips';
import { indexSummaryDue, runSummaries, sentSummaryPeriods, summaryWasSent } from './job';

/** The job walks every agency, so it runs on a table of its own. */
let db: Db;
let mailer: Mailer;
let records: SendRecords;
beforeAll(async () => {
  ({ db, mailer, records } = await isolatedTestDeps());
});
afterAll(() => db.client.destroy());

/**
 * The send queue in the test's hands: `run` is the hourly run at `at`, then every job it queued,
 * and every job those queued, delivered (`times` at once each, at most 8 jobs in flight), with a
 * tally of what the summary jobs did. Backoff delays are not waited for.
 */
/** What the workers told as permanent failures (`DeliveryDeps.warn`). */
const warned: Record<string, string>[] = [];

function summaries(on: Db, send: Mailer = mailer) {
  const waiting: SendJob[] = [];
  const delivery = (at: Date): DeliveryDeps => ({
    db: on,
    mailer: send,
    retry: { attempts: 1, baseDelayMs: 1 },
    linkSecret: 'test-link-secret-that-is-long-enough-0123456789',
    mailFrom: 'summaries@rapport.example',
    publicUrl: 'http://localhost:3000',
    now: () => at,
    requeue: async (job) => void waiting.push(job),
    warn: (message, fields) => void warned.push({ message, ...fields }),
  });
  return async (at: Date, options: { period?: string; times?: number; runs?: number } = {}) => {
    const runs = await Promise.all(Array.from({ length: options.runs ?? 1 }, () => runSummaries({ db: on, queue: { enqueue: async (jobs) => void waiting.push(...jobs) } }, at, options)));
    const tally = { agenciesDue: 0, agenciesQueued: 0, sent: 0, alreadySent: 0, failed: 0, retried: 0 };
    for (const r of runs) (tally.agenciesDue += r.agenciesDue), (tally.agenciesQueued += r.agenciesQueued);
    const count = (job: SendJob, outcome: DeliveryOutcome) => {
      if (job.kind === 'summaries') return;
      if (outcome === 'sent') tally.sent++;
      else if (outcome === 'not-due') tally.alreadySent++;
      else if (outcome === 'failed') tally.failed++;
      else if (outcome === 'retry') tally.retried++;
    };
    while (waiting.length > 0) {
      const twice = waiting.splice(0).flatMap((job) => Array.from({ length: options.times ?? 1 }, () => job));
      await mapConcurrent(twice, 8, async (job) => count(job, await deliver(delivery(at), job)));
    }
    return tally;
  };
}
let runAt: ReturnType<typeof summaries>;
beforeAll(() => {
  runAt = summaries(db);
});

let n = 0;
type Answer = { audience: Audience; responsiveness: number; improve?: string } & Record<string, unknown>;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * What one pro got: a round that begins at the agency's `at` and is answered an hour later, then
 * closed (its anonymous answers released) at `closeAt`, a day after `at` unless told otherwise;
 * `closeAt: null` leaves it open. A named round's answers are released as they are given.
 */
type Plan = Answer[] | { answers: Answer[]; closeAt?: string | null; attribution?: 'anonymous' | 'named' };

/** A round of these answers begun at `at`, given an hour later a minute apart; returns its id. */
async function answeredRound(agencyId: string, campaignId: string, tag: string, answers: Answer[], at: Date, attribution: 'anonymous' | 'named' = 'anonymous') {
  const recipients = answers.map((a) => ({ email: `r${++n}-${tag}@news.example`, audience: a.audience }));
  const { round, accepted } = await createRound(db, agencyId, campaignId, { recipients, attribution }, at);
  expect(accepted).toHaveLength(answers.length);
  for (const [i, { audience: _a, ...answer }] of answers.entries()) {
    await submitResponse(db, accepted[i]!, answer, new Date(at.getTime() + HOUR + i * 60_000));
  }
  return round.roundId;
}

/** Closes a round at `at`, which releases its anonymous answers then (`closeRound` is what the scheduled job runs). */
async function close(roundId: string, at: string) {
  expect(await closeRound(db, roundId, new Date(at))).toBe(true);
}

/** An agency (k = 3) with pros, each answered and released as `Plan` says. */
async function agencyWith(timezone: string, at: string, pros: Record<string, Plan>, settings: Record<string, unknown> = {}) {
  const when = new Date(at);
  const tag = `${++n}-${when.getTime()}`;
  const agency = await createAgency(db, { name: `Summaries ${tag}`, timezone }, when);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3, ...settings }, when);
  const emails: Record<string, string> = {};
  const proIds: Record<string, string> = {};
  const campaigns: Record<string, string> = {};
  const rounds: Record<string, string> = {};
  for (const [name, plan] of Object.entries(pros)) {
    const { answers, closeAt = new Date(when.getTime() + DAY).toISOString(), attribution = 'anonymous' } = Array.isArray(plan) ? { answers: plan } : plan;
    const email = `${name.toLowerCase()}-${tag}@acme.example`;
    emails[name] = email;
    const pro = await createPro(db, agency.agencyId, { name, email }, when);
    proIds[name] = pro.proId;
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, when);
    campaigns[name] = campaign.campaignId;
    if (answers.length === 0) continue;
    rounds[name] = await answeredRound(agency.agencyId, campaign.campaignId, tag, answers, when, attribution);
    if (closeAt) await close(rounds[name], closeAt);
  }
  return { agencyId: agency.agencyId, tag, emails, proIds, campaigns, rounds };
}

const reporters = (scores: number[], extra: Record<string, unknown> = {}): Answer[] =>
  scores.map((responsiveness) => ({ audience: 'reporter', responsiveness, ...extra }));

/** A pro's marker of a period (the job's exactly-once record): `sent`, `quiet`, `failed`, or none. */
async function summaryMarked(agencyId: string, proId: string, period: string, on = db) {
  const { Item } = await on.doc.send(new GetCommand({ TableName: on.table, Key: keys.summarySent(agencyId, proId, period), ConsistentRead: true }));
  return Item?.status as string | undefined;
}

async function runRecord(agencyId: string, period: string, on = db) {
  const { Item } = await on.doc.send(new GetCommand({ TableName: on.table, Key: keys.summaryRun(agencyId, period), ConsistentRead: true }));
  return Item;
}

describe('the summary job', () => {
  it('sends each pro with a release in the period one summary when the run goes twice at once and every job is delivered twice at once; quiet pros get none', async () => {
    // Week of Monday 4 March 2030 (UTC, 2030-W10); the slot is Monday 11 March 09:00.
    const { agencyId, emails, proIds, rounds } = await agencyWith('UTC', '2030-03-04T10:00:00Z', {
      // Three reporters, released as one batch when the round closes on Tuesday.
      Jane: reporters([4, 5, 3]),
      // One named answer: released as it is given, a batch of one (shown by its n only).
      Bob: { answers: reporters([2]), attribution: 'named' },
      Cy: [],
      // Answered this week, but the round is still open: nothing released, nothing to say.
      Dee: { answers: reporters([1, 2, 2]), closeAt: null },
      // One anonymous answer, below k: it goes to the pool, which is not released.
      Eve: reporters([5]),
    });
    const slot = new Date('2030-03-11T09:00:00Z');
    // Two runs at once each queue the agency; one of its two jobs (each delivered twice) lists the
    // pros, and each pro's job, delivered twice at once, settles it once.
    const first = await runAt(slot, { runs: 2, times: 2 });
    expect(first).toMatchObject({ agenciesDue: 2, agenciesQueued: 2, sent: 2, failed: 0, retried: 0 });
    expect(await runRecord(agencyId, '2030-W10')).toMatchObject({ listed: true, total: 5, settled: 5 });
    // The run is complete: the next hourly run reads its record, queues nothing, and moves the
    // agency on to its next slot in the due index.
    expect(await runAt(new Date('2030-03-11T10:00:00Z'))).toEqual({ agenciesDue: 1, agenciesQueued: 0, sent: 0, alreadySent: 0, failed: 0, retried: 0 });
    expect((await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.agency(agencyId), ConsistentRead: true }))).Item).toMatchObject(keys.summaryDue(agencyId, '2030-03-18T09:00:00.000Z'));
    const [jane, ...moreJane] = await sesEmails({ to: emails.Jane! });
    expect(moreJane).toEqual([]);
    expect(jane!.subject).toBe('Your responsiveness in the week of 4 Mar to 10 Mar 2030: 4.0 out of 5 from 3 answers');
    const [bob, ...moreBob] = await sesEmails({ to: emails.Bob! });
    expect(moreBob).toEqual([]);
    expect(bob!.body.text).toContain('Responsiveness: 1 answer, too few to show');
    for (const who of ['Cy', 'Dee', 'Eve']) expect(await sesEmails({ to: emails[who]! })).toEqual([]);
    for (const who of ['Jane', 'Bob', 'Cy', 'Dee', 'Eve']) expect(await summaryMarked(agencyId, proIds[who]!, '2030-W10')).toBe(who === 'Jane' || who === 'Bob' ? 'sent' : 'quiet');

    // Dee's round closes the next week: her answers of week 10 count in week 11, when they were released.
    await close(rounds.Dee!, '2030-03-12T10:00:00Z');
    // Before the slot, week 11 is not due yet: the agency is not even read, nothing more, and nothing early.
    expect(await runAt(new Date('2030-03-18T08:59:00Z'))).toEqual({ agenciesDue: 0, agenciesQueued: 0, sent: 0, alreadySent: 0, failed: 0, retried: 0 });
    // At it, only Dee has a release in week 11; Jane and Bob, summarised for week 10, are quiet now.
    expect(await runAt(new Date('2030-03-18T09:00:00Z'))).toEqual({ agenciesDue: 1, agenciesQueued: 1, sent: 1, alreadySent: 0, failed: 0, retried: 0 });
    const [dee, ...moreDee] = await sesEmails({ to: emails.Dee! });
    expect(moreDee).toEqual([]);
    expect(dee!.subject).toBe('Your responsiveness in the week of 11 Mar to 17 Mar 2030: 1.7 out of 5 from 3 answers');
    for (const who of ['Jane', 'Bob']) expect(await sesEmails({ to: emails[who]! })).toHaveLength(1);
    for (const who of ['Jane', 'Bob', 'Cy', 'Dee', 'Eve']) expect(await summaryMarked(agencyId, proIds[who]!, '2030-W11')).toBe(who === 'Dee' ? 'sent' : 'quiet');
  }, 60_000); // many runs and rounds: slow on a loaded machine

  it('reaches Auckland and Los Angeles at their Monday 09:00 across the DST changes, counting releases by the local week', async () => {
    // Auckland leaves DST on 7 April 2030 (03:00 NZDT becomes 02:00 NZST): Monday 8 April 09:00 NZST
    // is 21:00 UTC on the 7th, and the week of 1 April ends at 12:00 UTC on the 7th. Released at
    // 23:30 NZST on Sunday (11:30 UTC), Aroha's answers count in that week.
    const nz = await agencyWith('Pacific/Auckland', '2030-04-01T01:00:00Z', { Aroha: { answers: reporters([4, 4, 5]), closeAt: '2030-04-07T11:30:00Z' } });
    // Los Angeles enters DST on 10 March 2030: Monday 11 March 09:00 PDT is 16:00 UTC, and the week
    // of 4 March ends at 00:00 PDT, 07:00 UTC. Lupe's release at 23:30 PDT on Sunday counts in it;
    // Luis's, at 00:30 PDT on Monday (it would still be Sunday in PST), in the next week.
    const la = await agencyWith('America/Los_Angeles', '2030-03-05T18:00:00Z', {
      Lupe: { answers: reporters([5, 4, 4]), closeAt: '2030-03-11T06:30:00Z' },
      Luis: { answers: reporters([3, 4, 4]), closeAt: '2030-03-11T07:30:00Z' },
    });
    const firstSent = async (email: string, from: string, hours: number) => {
      for (let h = 0; h < hours; h++) {
        const now = new Date(Date.parse(from) + h * HOUR);
        await runAt(now);
        if ((await sesEmails({ to: email })).length > 0) return now.toISOString();
      }
      return null;
    };
    // In time order: an agency moved on to its next slot is not looked at before it.
    expect(await firstSent(la.emails.Lupe!, '2030-03-11T13:00:00Z', 8)).toBe('2030-03-11T16:00:00.000Z');
    expect(await sesEmails({ to: la.emails.Luis! })).toEqual([]);
    expect(await summaryMarked(la.agencyId, la.proIds.Luis!, '2030-W10')).toBe('quiet');
    // Luis's summary comes a week later, for the week of 11 March.
    expect(await firstSent(la.emails.Luis!, '2030-03-18T13:00:00Z', 8)).toBe('2030-03-18T16:00:00.000Z');
    expect((await sesEmails({ to: la.emails.Luis! })).map((m) => m.subject)).toEqual(['Your responsiveness in the week of 11 Mar to 17 Mar 2030: 3.7 out of 5 from 3 answers']);
    expect(await sesEmails({ to: la.emails.Lupe! })).toHaveLength(1);
    expect(await firstSent(nz.emails.Aroha!, '2030-04-07T17:00:00Z', 8)).toBe('2030-04-07T21:00:00.000Z');
  }, 60_000); // 24 hourly runs

  it('names the weakest dimension with its tips, quotes only released rows of the period, and escapes hostile comments', async () => {
    const hostile = '<script>alert(1)</script> "><img src=x onerror=alert(2)>';
    // Week of Monday 6 May 2030 (UTC); the slot is Monday 13 May 09:00.
    const { agencyId, tag, emails, campaigns, proIds } = await agencyWith('UTC', '2030-05-06T10:00:00Z', {
      Jane: [
        ...reporters([4, 4], { relevance: 2, listening: 4, followThrough: 5, improve: hostile }),
        ...reporters([5], { relevance: 2, listening: 4, followThrough: 5, improve: 'Clearer embargo times' }),
        // Only two clients: below k, they go to the pool and are not released, comment and all.
        { audience: 'client', responsiveness: 3, anticipation: 1, improve: 'Only two clients: must stay private' },
        { audience: 'client', responsiveness: 3, anticipation: 1 },
      ],
    });
    // An earlier round of Jane's, released the week before: its comment is last week's news.
    const earlier = await answeredRound(agencyId, campaigns.Jane!, tag, reporters([2, 2, 2], { improve: 'Released last week' }), new Date('2030-04-22T10:00:00Z'));
    await close(earlier, '2030-05-01T10:00:00Z');

    const run = await runAt(new Date('2030-05-13T09:00:00Z'));
    expect(run.sent).toBe(1);
    const [mail, ...more] = await sesEmails({ to: emails.Jane! });
    expect(more).toEqual([]);
    const { html, text } = mail!.body as { html: string; text: string };
    // Relevance (mean 2, n = 3) is the weakest dimension with n ≥ k; anticipation (n = 2) was never released.
    expect(text).toContain('Relevant and accurate: 2.0 out of 5 from 3 answers, your lowest score this period.');
    expect(TIPS.relevance.filter((t) => text.includes(t.text)).length).toBeGreaterThanOrEqual(2);
    // This week's batch only: 4.3 (n = 3) against last week's 2.0 (n = 3).
    expect(text).toContain('Responsiveness: 4.3 out of 5, from 3 answers');
    expect(text).toContain('the week of 29 Apr to 5 May 2030: 2.0 out of 5, from 3 answers');
    expect(text).toContain('Clearer embargo times');
    expect(text).not.toContain('Only two clients');
    expect(text).not.toContain('Released last week');
    expect(text.match(/^A reporter:$/gm)).toHaveLength(3);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // "See more in Rapport" opens the pro's home in the console.
    expect(text).toContain('See more in Rapport: http://localhost:3000/app\n');
    expect(html).toContain('<a href="http://localhost:3000/app" target="_blank"');
    // The console lists the summaries that were emailed.
    expect(await sentSummaryPeriods(db, agencyId, proIds.Jane!)).toEqual(['2030-W19']);
    expect(await summaryWasSent(db, agencyId, proIds.Jane!, '2030-W19')).toBe(true);
    expect(await summaryWasSent(db, agencyId, proIds.Jane!, '2030-W18')).toBe(false);
  });

  it('quotes, of comments released together, the same three whatever order their rows were stored in: the last by their text', async () => {
    // Week of Monday 6 January 2031 (UTC); one batch of five reporters, released together.
    const comments = ['Delta', 'Alpha', 'Echo', 'Charlie', 'Bravo'];
    const { emails } = await agencyWith('UTC', '2031-01-06T10:00:00Z', { Jane: comments.map((improve) => ({ audience: 'reporter' as const, responsiveness: 4, improve })) });
    expect((await runAt(new Date('2031-01-13T09:00:00Z'))).sent).toBe(1);
    const [mail] = await sesEmails({ to: emails.Jane! });
    const { text } = mail!.body as { text: string };
    expect(text).toContain('The latest 3 of 5 comments this period');
    expect(text.match(/^ {2}(Alpha|Bravo|Charlie|Delta|Echo)$/gm)).toEqual(['  Echo', '  Delta', '  Charlie']);
  });

  it('sends admins the agency summary once, of the batches released in the month, and nothing more for a month forced by hand twice', async () => {
    const { emails } = await agencyWith(
      'UTC',
      '2030-06-03T10:00:00Z',
      {
        Jane: reporters([5, 5, 4]),
        Bob: reporters([1, 2, 1]),
        // Answered in June, released in July: July's news, not June's.
        Quentin: { answers: reporters([3, 3, 3]), closeAt: '2030-07-01T00:30:00Z' },
      },
      { summary: { adminEmails: ['boss-summary@acme.example'], cadence: 'monthly' } },
    );
    const forced = await runAt(new Date('2030-07-15T12:00:00Z'), { period: '2030-06' });
    // Jane, Bob and the admin; every other agency of this table had no release in June.
    expect(forced.sent).toBe(3);
    expect(forced.failed).toBe(0);
    expect(await runAt(new Date('2030-07-15T12:00:00Z'), { period: '2030-06' })).toMatchObject({ agenciesQueued: 0, sent: 0 });
    expect(await sesEmails({ to: emails.Jane! })).toHaveLength(1);
    expect(await sesEmails({ to: emails.Bob! })).toHaveLength(1);
    expect(await sesEmails({ to: emails.Quentin! })).toEqual([]);
    const admin = await sesEmails({ to: 'boss-summary@acme.example' });
    expect(admin).toHaveLength(1);
    expect(admin[0]!.body.text).toContain('Jane');
    expect(admin[0]!.body.text).toContain('Bob');
    expect(admin[0]!.body.text).not.toContain('Quentin');
    expect(admin[0]!.body.text).toContain('See more in Rapport: http://localhost:3000/app\n');
  });

  // Stubs: the local SES server cannot be made to throttle or reject, so these faults are injected.
  it('queues a summary SES did not take (stubbed throttling) again with backoff and sends it once; records a rejection (stubbed) with its reason', async () => {
    const { agencyId, emails, proIds } = await agencyWith('UTC', '2030-08-05T10:00:00Z', { Tia: reporters([4, 4, 5]), Rex: reporters([3, 3, 4]) });
    let throttled = 0;
    const faulty: Mailer = {
      send: async (message) => {
        if (message.to.address === emails.Tia && ++throttled <= 2) throw new MailerError('Rate exceeded', 'Throttling', true, undefined, true);
        if (message.to.address === emails.Rex) throw new MailerError('Address blacklisted', 'MessageRejected', false, undefined, true);
        return mailer.send(message);
      },
    };
    // Sent: Tia's, and Quentin's July summary with its agency's (monthly, due on the 1st).
    expect(await summaries(db, faulty)(new Date('2030-08-12T09:00:00Z'))).toMatchObject({ sent: 3, failed: 1, retried: 2 });
    expect(await sesEmails({ to: emails.Tia! })).toHaveLength(1);
    expect(await summaryMarked(agencyId, proIds.Tia!, '2030-W32')).toBe('sent');
    const { Item: rejected } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.summarySent(agencyId, proIds.Rex!, '2030-W32'), ConsistentRead: true }));
    expect(rejected).toMatchObject({ status: 'failed', failure: 'MessageRejected', failedAt: '2030-08-12T09:00:00.000Z' });
    expect(warned).toContainEqual({ message: 'email refused for good', kind: 'summary', agencyId, proId: proIds.Rex, period: '2030-W32', failure: 'MessageRejected' });
    // Both are settled: the run is complete, and not tried again.
    expect(await runRecord(agencyId, '2030-W32')).toMatchObject({ listed: true, total: 2, settled: 2 });
  });
  // Stubs: the local SES server cannot lose its answer, fail before a request, or throttle one address.
  it("settles summaries cut off mid-send from SES's record, and retries a throttled admin without sending the other admin a second (stubs: answer lost, reset before SES, throttling)", async () => {
    const unique = Date.now();
    const [boss, deputy] = [`boss-${unique}@acme.example`, `deputy-${unique}@acme.example`];
    const { agencyId, emails, proIds } = await agencyWith('UTC', '2030-10-07T10:00:00Z', { Uma: reporters([4, 4, 5]), Vic: reporters([3, 4, 4]) }, { summary: { adminEmails: [boss, deputy] } });
    let deputyThrottled = 0;
    const faulty: Mailer = {
      send: async (message) => {
        if (message.to.address === emails.Uma) {
          await mailer.send(message);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        if (message.to.address === emails.Vic) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        if (message.to.address === deputy && ++deputyThrottled <= 1) throw new MailerError('Rate exceeded', 'Throttling', true, undefined, true);
        return mailer.send(message);
      },
    };
    const at = new Date('2030-10-14T09:00:00Z');
    // (Other agencies of this table are due too: only this one's emails are counted.)
    expect(await summaries(db, faulty)(at)).toMatchObject({ failed: 0, retried: 1 });
    expect(deputyThrottled).toBe(2);
    for (const address of [boss, deputy]) expect(await sesEmails({ to: address })).toHaveLength(1);
    const period = '2030-W41';
    expect(await summaryMarked(agencyId, proIds.Uma!, period)).toBe('sending');
    expect(await summaryMarked(agencyId, proIds.Vic!, period)).toBe('sending');

    // The recovery sweep, once the claims' leases have run out.
    const resend: SendJob[] = [];
    const recovered = await recoverSends({ db, records, queue: { enqueue: async (jobs) => void resend.push(...jobs) } }, new Date(at.getTime() + 16 * 60_000));
    expect(recovered).toEqual({ requeued: 0, recorded: 1, resent: 1 });
    expect(resend).toEqual([{ kind: 'summary', agencyId, proId: proIds.Vic, period }]);
    expect(await summaryMarked(agencyId, proIds.Uma!, period)).toBe('sent');
    expect(await deliver({ db, mailer, linkSecret: 'test-link-secret-that-is-long-enough-0123456789', mailFrom: 'summaries@rapport.example', publicUrl: 'http://localhost:3000', now: () => at }, resend[0]!)).toBe('sent');
    for (const name of ['Uma', 'Vic']) expect(await sesEmails({ to: emails[name]! })).toHaveLength(1);
    for (const address of [boss, deputy]) expect(await sesEmails({ to: address })).toHaveLength(1);
    expect(await runRecord(agencyId, period)).toMatchObject({ listed: true, total: 3, settled: 3 });
  });
});

/**
 * The issue's "Summaries" test. After the first run of a period, the next hourly run costs 3
 * DynamoDB calls whatever the number of quiet pros: the due index's query, one BatchGet of the due
 * agencies' run records, and the update that moves the agency, its run complete, on to its next
 * slot; from then on an hour costs the due index's query alone (with 20 quiet pros as with 2,000).
 * The first run reaches each quiet pro
 * once: one query of its releases, with its marker read in BatchGets of 100 and written in
 * transactions of 99 (2,060 calls in all for 2,000 pros).
 */
describe('the summary job at scale', () => {
  async function quietAgency(pros: number) {
    const { db: own } = await isolatedTestDeps();
    const meter = meterCapacity(own);
    const at = new Date('2030-09-02T10:00:00Z');
    const agency = await createAgency(own, { name: `Quiet ${pros}`, timezone: 'UTC' }, at);
    await putPros(own, agency.agencyId, pros, at);
    const run = summaries(own);
    meter.reset();
    const first = await run(new Date('2030-09-09T09:00:00Z'));
    const firstCalls = meter.read().calls;
    const later = [];
    for (const hour of [10, 11, 12]) {
      meter.reset();
      const tally = await run(new Date(`2030-09-09T${hour}:00:00Z`));
      later.push({ ...tally, calls: meter.read().calls });
    }
    expect(await runRecord(agency.agencyId, '2030-W36', own)).toMatchObject({ listed: true, total: pros, settled: pros });
    own.client.destroy();
    return { first, firstCalls, later };
  }

  it('costs 3 DynamoDB calls the hour after the first run of a period, then 1 an hour, with 20 quiet pros as with 2,000', async () => {
    const small = await quietAgency(20);
    const large = await quietAgency(2000);
    // Quiet pros are settled by the agency's jobs: no job of their own, and nothing sent.
    expect(small.first).toEqual({ agenciesDue: 1, agenciesQueued: 1, sent: 0, alreadySent: 0, failed: 0, retried: 0 });
    expect(large.first).toEqual({ agenciesDue: 1, agenciesQueued: 1, sent: 0, alreadySent: 0, failed: 0, retried: 0 });
    // 4 for the run; per page of up to 500 pros 3, one BatchGet per 100 and one transaction per 99; one query per pro.
    expect(small.firstCalls).toBe(4 + (3 + 1 + 1) + 20);
    expect(large.firstCalls).toBe(4 + 4 * (3 + 5 + 6) + 2000);
    const movingOn = { agenciesDue: 1, agenciesQueued: 0, sent: 0, alreadySent: 0, failed: 0, retried: 0, calls: 3 };
    const idle = { agenciesDue: 0, agenciesQueued: 0, sent: 0, alreadySent: 0, failed: 0, retried: 0, calls: 1 };
    expect(small.later).toEqual([movingOn, idle, idle]);
    expect(large.later).toEqual([movingOn, idle, idle]);
  }, 120_000);
});

describe('the summary due index', () => {
  it('looks at an agency again at once when its time zone or schedule changes, not for other settings, drops it for the cadence never, and takes in agencies from before it (admin index-summaries)', async () => {
    const { db: own } = await isolatedTestDeps();
    const run = summaries(own);
    const at = (hours: number) => new Date(Date.parse('2030-09-03T10:00:00Z') + hours * HOUR);
    const dueKey = async (agencyId: string) => {
      const { Item } = await own.doc.send(new GetCommand({ TableName: own.table, Key: keys.agency(agencyId), ConsistentRead: true }));
      return Item?.GSI2PK === undefined ? null : Item.GSI2SK;
    };
    const nothing = { sent: 0, alreadySent: 0, failed: 0, retried: 0 };
    const { agencyId } = await createAgency(own, { name: 'Due index', timezone: 'UTC' }, at(0));
    expect(await dueKey(agencyId)).toBe(keys.summaryDue(agencyId, at(0).toISOString()).GSI2SK);
    // Created on a Tuesday: the week before Monday's slot is due at the next hourly run, then it moves on.
    expect(await run(at(1))).toEqual({ agenciesDue: 1, agenciesQueued: 1, ...nothing });
    expect(await run(at(2))).toEqual({ agenciesDue: 1, agenciesQueued: 0, ...nothing });
    expect(await dueKey(agencyId)).toBe(keys.summaryDue(agencyId, '2030-09-09T09:00:00.000Z').GSI2SK);
    // A new cadence: due now; August's monthly run is queued, then the agency waits for 1 October.
    await updateSettings(own, agencyId, { summary: { cadence: 'monthly' } }, at(3));
    expect(await dueKey(agencyId)).toBe(keys.summaryDue(agencyId, at(3).toISOString()).GSI2SK);
    expect(await run(at(4))).toEqual({ agenciesDue: 1, agenciesQueued: 1, ...nothing });
    expect(await runRecord(agencyId, '2030-08', own)).toMatchObject({ listed: true, total: 0, settled: 0 });
    expect(await run(at(5))).toEqual({ agenciesDue: 1, agenciesQueued: 0, ...nothing });
    expect(await dueKey(agencyId)).toBe(keys.summaryDue(agencyId, '2030-10-01T09:00:00.000Z').GSI2SK);
    // Other settings leave it where it is.
    await updateSettings(own, agencyId, { name: 'Renamed', anonymityThreshold: 4, summary: { adminEmails: ['boss-due@acme.example'] } }, at(6));
    expect(await dueKey(agencyId)).toBe(keys.summaryDue(agencyId, '2030-10-01T09:00:00.000Z').GSI2SK);
    // Never: the next run finds it due, and takes it out of the index.
    await updateSettings(own, agencyId, { summary: { cadence: 'never' } }, at(7));
    expect(await run(at(8))).toEqual({ agenciesDue: 0, agenciesQueued: 0, ...nothing });
    expect(await dueKey(agencyId)).toBeNull();

    // An agency from before the index has no due key: the hourly run does not see it until it is indexed.
    const old = await createAgency(own, { name: 'From before', timezone: 'UTC' }, at(8));
    await own.doc.send(new UpdateCommand({ TableName: own.table, Key: keys.agency(old.agencyId), UpdateExpression: 'REMOVE GSI2PK, GSI2SK' }));
    expect(await run(at(9))).toEqual({ agenciesDue: 0, agenciesQueued: 0, ...nothing });
    // The agency whose cadence is never stays out.
    expect(await indexSummaryDue(own, at(9))).toEqual({ agencies: 2, indexed: 1 });
    expect(await indexSummaryDue(own, at(9))).toEqual({ agencies: 2, indexed: 0 });
    expect(await dueKey(agencyId)).toBeNull();
    expect(await run(at(10))).toEqual({ agenciesDue: 1, agenciesQueued: 1, ...nothing });
    expect(await runRecord(old.agencyId, '2030-W35', own)).toMatchObject({ listed: true, total: 0, settled: 0 });
    own.client.destroy();
  }, 60_000);
});

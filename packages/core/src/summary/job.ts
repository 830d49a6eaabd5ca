import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { AGENCIES_PARTITION, keys, SUMMARY_DUE_PARTITION } from '../db/keys';
import { withoutKeys } from '../db/items';
import { batchGet, itemKey, mapConcurrent } from '../db/batch';
import { queryAll } from '../db/page';
import { transactIfUnchanged, updateIfUnchanged, type TransactItems } from '../db/transact';
import { getAgency, type Agency } from '../agency/agency';
import { listPros, type Pro } from '../pro/pro';
import { anyBatchReleased } from '../release/release';
import { allAgencyIds } from '../scores/backfill';
import { iso } from '../shared/time';
import { sendWithRetry } from '../sending/retry';
import { mailClaim, mailFailed, mailRef, mailSent, mailTags, releaseMail, withMailRef } from '../sending/mail-claim';
import { addressHash } from '../survey/address';
import { senderName } from '../email/text';
import { listUnsubscribeHeaders } from '../email/invitation';
import { adminReceivesAgencySummary, preferencesUrl, proReceives, type MailRecipient } from '../preferences/mail-preferences';
import type { JobQueue, SendJob } from '../sending/queue';
import type { DeliveryDeps, DeliveryOutcome } from '../sending/deliver';
import { retryDelaySeconds } from '../sending/retry';
import { buildAgencySummary } from './agency-summary';
import { buildProSummary } from './build';
import { renderAgencySummary, renderProSummary } from './render';
import { dueSummaryPeriod, monthPeriod, nextSummarySlot, previousPeriod, summaryPeriodOf, type SummaryPeriod } from './schedule';

/**
 * How summaries go out. Each agency item carries, in a due index (keys.ts 23b), when the hourly run
 * should next look at it: at its creation, at a change of its time zone or schedule, and, once its
 * run of a period is complete, its next slot. The hourly run (`runSummaries`) reads the agencies due
 * by now (none, most hours: one query that reads nothing), and for each its run record of the period
 * (`AG#<a>#SUM / RUN#<period>`): a complete run moves the agency on to its next slot; a run neither
 * complete nor being listed is queued as one `summaries` job. Its cost grows with neither pros nor
 * agencies, only with the agencies whose slot has passed and whose run is not yet seen complete.
 * A `summaries` job lists a page of the agency's pros and reads their markers of the period.
 * Each pro without one is checked for a release in the period (one query, Limit 1): a quiet pro is
 * settled there and then (`quiet` markers, 99 to a transaction), an active one gets a `summary`
 * job; then the next page, and after the last the `agency-summary` job. A `summary` job claims its
 * pro's marker (`sending`) before its one SES call, then records `sent` or `failed`. Every marker
 * is written in the transaction that counts it settled on the run record. The run is complete
 * once its listing has ended and as many pros (and the agency summary) are settled as were listed.
 */

/** What the hourly run needs: the table and the send queue. */
export interface SummaryDeps {
  db: Db;
  queue: JobQueue;
}

export interface SummaryRun {
  /** Agencies found due whose slot has passed (or all, for a forced period). */
  agenciesDue: number;
  /** Of those, the ones whose run was queued: not complete, and no listing begun within the lease. */
  agenciesQueued: number;
}

/** Pros listed per `summaries` job: a few seconds of reads and queueing in one sender record. */
export const SUMMARY_PAGE_SIZE = 500;

/** A listing not complete after this long is begun again: its jobs, or some pro's, were lost. */
const LISTING_LEASE_MS = 3 * 3_600_000;

interface SummaryRunRecord {
  /** When the current listing began; it names it. */
  listingAt?: string;
  /** Where the current listing's next page starts ('' for the first). */
  nextCursor?: string;
  listed?: boolean;
  /** Pros (and the agency summary) the listing found. */
  total?: number;
  /** Markers of the period written, each counted once by the transaction that wrote it. */
  settled?: number;
}

const complete = (run: SummaryRunRecord) => run.listed === true && (run.settled ?? 0) >= (run.total ?? 0);
const listingLive = (run: SummaryRunRecord, now: Date) => run.listingAt !== undefined && Date.parse(run.listingAt) > now.getTime() - LISTING_LEASE_MS;

/** An agency's period due, and, from the due index, the agency item as read (to move it on). */
interface Due {
  agencyId: string;
  period: string;
  item?: Record<string, unknown>;
}

/**
 * The hourly summary run: queues a `summaries` job for each agency whose period is due and whose
 * run is neither complete nor being listed; moves an agency whose run is complete on to its next
 * slot. Its calls: the due index's pages, one BatchGet per 100 agencies found due, one update per
 * agency moved on; one query when nothing is due. `period` (a `YYYY-MM`) forces a monthly summary
 * of that month for every agency (by hand), from the agency directory.
 */
export async function runSummaries(deps: SummaryDeps, now: Date, options: { period?: string } = {}): Promise<SummaryRun> {
  const run: SummaryRun = { agenciesDue: 0, agenciesQueued: 0 };
  const forced = options.period;
  const pages = forced
    ? queryAll(deps.db, { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': AGENCIES_PARTITION } })
    : queryAll(deps.db, {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :now',
        ExpressionAttributeValues: { ':pk': SUMMARY_DUE_PARTITION, ':now': `${iso(now)}~` },
      });
  for await (const items of pages) {
    const due: Due[] = [];
    for (const item of items) {
      const agency = withoutKeys<Agency>(item);
      if (forced) {
        due.push({ agencyId: agency.agencyId, period: monthPeriod(forced, agency.timezone).key });
        continue;
      }
      const found = dueSummaryPeriod(agency, now);
      // The cadence `never`: out of the index until its schedule changes.
      if (found) due.push({ agencyId: agency.agencyId, period: found.period.key, item });
      else await moveOn(deps.db, item, null);
    }
    run.agenciesDue += due.length;
    const runs = await batchGet(deps.db, due.map((d) => keys.summaryRun(d.agencyId, d.period)));
    const record = (d: Due) => (runs.get(itemKey(keys.summaryRun(d.agencyId, d.period))) ?? {}) as SummaryRunRecord;
    const done = due.filter((d) => complete(record(d)));
    await mapConcurrent(done, 8, async (d) => {
      if (d.item) await moveOn(deps.db, d.item, nextSummarySlot(withoutKeys<Agency>(d.item), now));
    });
    const jobs: SendJob[] = due.filter((d) => !complete(record(d)) && !listingLive(record(d), now)).map((d) => ({ kind: 'summaries', agencyId: d.agencyId, period: d.period }));
    if (jobs.length > 0) await deps.queue.enqueue(jobs);
    run.agenciesQueued += jobs.length;
  }
  return run;
}

/**
 * Moves an agency on in the due index to `next` (out of it for null), unless its settings changed
 * since it was read (they made it due now, for their own slot) or another run moved it already.
 */
async function moveOn(db: Db, item: Record<string, unknown>, next: Date | null): Promise<void> {
  const agencyId = item.agencyId as string;
  await updateIfUnchanged(db, {
    Key: keys.agency(agencyId),
    UpdateExpression: next ? 'SET GSI2SK = :next' : 'REMOVE GSI2PK, GSI2SK',
    ConditionExpression: '#version = :version AND GSI2SK = :read',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':version': item.version, ':read': item.GSI2SK, ...(next ? { ':next': keys.summaryDue(agencyId, iso(next)).GSI2SK } : {}) },
  });
}

/**
 * Puts the agencies created before the summary due index into it, due now (`admin
 * index-summaries`, run once after deploying it): the next hourly run finds their period due as it
 * did before, and moves each on. Conditional on the agency having no due key yet (so one indexed
 * meanwhile is left alone; safe to run again) and a cadence other than `never`. Returns how many it indexed.
 */
export async function indexSummaryDue(db: Db, now: Date, agencyIds?: string[]): Promise<{ agencies: number; indexed: number }> {
  const done = { agencies: 0, indexed: 0 };
  for (const agencyId of agencyIds ?? (await allAgencyIds(db))) {
    done.agencies++;
    const due = keys.summaryDue(agencyId, iso(now));
    const indexed = await updateIfUnchanged(db, {
      Key: keys.agency(agencyId),
      UpdateExpression: 'SET GSI2PK = :pk, GSI2SK = :sk',
      ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(GSI2PK) AND #summary.cadence <> :never',
      ExpressionAttributeNames: { '#summary': 'summary' },
      ExpressionAttributeValues: { ':pk': due.GSI2PK, ':sk': due.GSI2SK, ':never': 'never' },
    });
    if (indexed) done.indexed++;
  }
  return done;
}

/** Queues jobs through the worker's `requeue` (without delay): the only queue access it has. */
async function enqueue(deps: DeliveryDeps, jobs: SendJob[]): Promise<void> {
  const requeue = deps.requeue;
  if (!requeue) throw new Error('The summary jobs need a queue to fan out to (DeliveryDeps.requeue)');
  await mapConcurrent(jobs, 10, (job) => requeue(job, 0));
}

/**
 * A `summaries` job: without `page`, begins the listing of the agency's pros (unless the run is
 * complete, or a listing began within the lease: the conditional update lets one job begin it),
 * then lists one page. Each page settles its quiet pros and queues a `summary` job for each other
 * pro with no marker of the period, and moves the run record on only if it still stands where the
 * page began, so a page run twice counts once and queues the next page once.
 */
export async function queueSummaries(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'summaries' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const runKey = keys.summaryRun(job.agencyId, job.period);
  let page = job.page;
  if (!page) {
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: runKey, ConsistentRead: true }));
    const record = (Item ?? {}) as SummaryRunRecord;
    const now = deps.now();
    if (complete(record) || listingLive(record, now)) return 'not-due';
    const listing = iso(now);
    const begun = await updateIfUnchanged(db, {
      Key: runKey,
      UpdateExpression: 'SET #type = :type, listingAt = :listing, nextCursor = :first, listed = :no, #total = :zero, settled = if_not_exists(settled, :zero)',
      ConditionExpression: record.listingAt === undefined ? 'attribute_not_exists(listingAt)' : 'listingAt = :seen',
      ExpressionAttributeNames: { '#type': 'type', '#total': 'total' },
      ExpressionAttributeValues: { ':type': 'summaryRun', ':listing': listing, ':first': '', ':no': false, ':zero': 0, ...(record.listingAt === undefined ? {} : { ':seen': record.listingAt }) },
    });
    if (!begun) return 'not-due';
    page = { listing, cursor: '' };
  }

  const pros = await listPros(db, job.agencyId, { limit: SUMMARY_PAGE_SIZE, cursor: page.cursor || undefined });
  const markers = await batchGet(db, pros.items.map((p) => keys.summarySent(job.agencyId, p.proId, job.period)));
  const open = pros.items.filter((p) => !markers.has(itemKey(keys.summarySent(job.agencyId, p.proId, job.period))));
  const agency = await getAgency(db, job.agencyId);
  const period = summaryPeriodOf(job.period, agency.timezone);
  // Pros who stopped their summaries are settled as `unsubscribed`, and quiet pros (nothing
  // released in the period, which has closed) as `quiet`, here, many to a transaction: they cost
  // one query each (the quiet ones), once per period, and no job.
  await settleMany(db, job.agencyId, job.period, open.filter((p) => !proReceives(p, 'summaries')).map((p) => p.proId), 'unsubscribed', iso(deps.now()));
  const unsettled = open.filter((p) => proReceives(p, 'summaries'));
  const released = await mapConcurrent(unsettled, 8, (p) => anyBatchReleased(db, job.agencyId, p.proId, period.from, period.to));
  await settleMany(db, job.agencyId, job.period, unsettled.filter((_, i) => !released[i]).map((p) => p.proId), 'quiet', iso(deps.now()));
  await enqueue(deps, unsettled.filter((_, i) => released[i]).map((p) => ({ kind: 'summary', agencyId: job.agencyId, proId: p.proId, period: job.period })));

  const last = pros.nextCursor === null;
  const admins = last && agency.summary.adminEmails.length > 0;
  const moved = await updateIfUnchanged(db, {
    Key: runKey,
    UpdateExpression: 'SET nextCursor = :next, listed = :last ADD #total :n',
    ConditionExpression: 'listingAt = :listing AND nextCursor = :cursor',
    ExpressionAttributeNames: { '#total': 'total' },
    ExpressionAttributeValues: { ':next': pros.nextCursor ?? '', ':last': last, ':n': pros.items.length + (admins ? 1 : 0), ':listing': page.listing, ':cursor': page.cursor },
  });
  if (!moved) return 'not-due';
  if (admins) await enqueue(deps, [{ kind: 'agency-summary', agencyId: job.agencyId, period: job.period }]);
  if (!last) await enqueue(deps, [{ kind: 'summaries', agencyId: job.agencyId, period: job.period, page: { listing: page.listing, cursor: pros.nextCursor! } }]);
  return 'queued';
}

/** Writes a marker of the period, if none is there, and counts it settled on the run record: false when one was. */
function settle(db: Db, marker: { PK: string; SK: string }, agencyId: string, period: string, record: Record<string, unknown>): Promise<boolean> {
  return transactIfUnchanged(db, [
    { Put: { TableName: db.table, Item: { ...marker, type: 'summarySent', ...record }, ConditionExpression: 'attribute_not_exists(PK)' } },
    countSettled(db, agencyId, period, 1),
  ]);
}

/** Settles pros with no summary to send, up to 99 markers and the count in one transaction; one by one where some pro was settled meanwhile. */
async function settleMany(db: Db, agencyId: string, period: string, proIds: string[], status: 'quiet' | 'unsubscribed', at: string): Promise<void> {
  for (let i = 0; i < proIds.length; i += 99) {
    const chunk = proIds.slice(i, i + 99);
    const puts: TransactItems = chunk.map((proId) => ({
      Put: { TableName: db.table, Item: { ...keys.summarySent(agencyId, proId, period), type: 'summarySent', status, at }, ConditionExpression: 'attribute_not_exists(PK)' },
    }));
    if (await transactIfUnchanged(db, [...puts, countSettled(db, agencyId, period, chunk.length)])) continue;
    for (const proId of chunk) await settle(db, keys.summarySent(agencyId, proId, period), agencyId, period, { status, at });
  }
}


const countSettled = (db: Db, agencyId: string, period: string, n: number): TransactItems[number] => ({
  Update: { TableName: db.table, Key: keys.summaryRun(agencyId, period), UpdateExpression: 'ADD settled :n', ExpressionAttributeValues: { ':n': n } },
});



/** Where a summary's "See more in Rapport" leads: the console's home (a pro's results, a member's team table). */
export const consoleUrl = (publicUrl: string) => `${publicUrl}/app`;

/** Summaries listed at most, newest first: five years of monthly ones. */
const SENT_SUMMARIES_SHOWN = 60;

/**
 * The periods whose summary was emailed to a pro (marker `sent`), newest first: what the console
 * lists as past summaries. Quiet, stopped and failed periods have a marker too, and are left out.
 */
export async function sentSummaryPeriods(db: Db, agencyId: string, proId: string): Promise<string[]> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk',
      FilterExpression: '#status = :sent',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': keys.summarySent(agencyId, proId, '').PK, ':sent': 'sent' },
      ScanIndexForward: false,
    }),
  );
  return Items.slice(0, SENT_SUMMARIES_SHOWN).map((item) => item.SK as string);
}

/** Whether a pro's summary of a period was emailed. */
export async function summaryWasSent(db: Db, agencyId: string, proId: string, period: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.summarySent(agencyId, proId, period) }));
  return Item?.status === 'sent';
}

/** The tips the pro got last period, so this period's differ. */
async function lastTipIds(db: Db, agencyId: string, proId: string, period: SummaryPeriod, timeZone: string): Promise<string[]> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.summarySent(agencyId, proId, previousPeriod(period, timeZone).key) }));
  return (Item?.tipIds as string[] | undefined) ?? [];
}

/** The preview (and the job's, with the link to stop them) view of a pro's summary for a period, rendered; null for a quiet period. */
export async function proSummaryFor(deps: Pick<DeliveryDeps, 'db' | 'publicUrl'>, agency: Agency, pro: Pro, period: SummaryPeriod, preferencesUrl?: string) {
  const summary = await buildProSummary(deps.db, agency, pro, period, {
    lastTipIds: () => lastTipIds(deps.db, agency.agencyId, pro.proId, period, agency.timezone),
    moreUrl: consoleUrl(deps.publicUrl),
  });
  return summary ? { summary, rendered: renderProSummary(summary, preferencesUrl) } : null;
}

/**
 * A `summary` job: one pro's summary of a period, at most one SES call. One BatchGet reads the
 * marker, the agency and the pro; a pro with a marker is settled already. A quiet period (nothing
 * released) is settled as `quiet` (the agency's job settles most of those before any job).
 * Otherwise a mail claim (`mailClaim`: `sending`, leased) is the marker, counted settled, before
 * SES is called, so a job run twice, or twice at once, sends once. SES not taking it (throttled,
 * down) gives the claim back and queues the job again with backoff; a worker that dies or an SES
 * answer lost leaves the claim to the recovery sweep, which settles it from SES's record; a
 * rejection is recorded `failed` with its code.
 */
export async function deliverProSummary(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'summary' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const marker = keys.summarySent(job.agencyId, job.proId, job.period);
  const found = await batchGet(db, [marker, keys.agency(job.agencyId), keys.pro(job.agencyId, job.proId)]);
  if (found.has(itemKey(marker))) return 'not-due';
  const agency = withoutKeys<Agency>(found.get(itemKey(keys.agency(job.agencyId)))!);
  const pro = withoutKeys<Pro>(found.get(itemKey(keys.pro(job.agencyId, job.proId)))!);
  const now = deps.now();
  // Stopped by the link in an earlier one: settled, never retried.
  if (!proReceives(pro, 'summaries')) return (await settle(db, marker, job.agencyId, job.period, { status: 'unsubscribed', at: iso(now) })) ? 'skipped' : 'not-due';
  const preferences: MailRecipient = { stream: 'summaries', agencyId: job.agencyId, proId: job.proId };
  const built = await proSummaryFor(deps, agency, pro, summaryPeriodOf(job.period, agency.timezone), preferencesUrl(deps, preferences, now));
  if (!built) return (await settle(db, marker, job.agencyId, job.period, { status: 'quiet', at: iso(now) })) ? 'skipped' : 'not-due';

  const tipIds = built.summary.weakest?.tips.map((t) => t.id) ?? [];
  if (!(await settle(db, marker, job.agencyId, job.period, { ...mailClaim(marker, job, now, keys.summaryRun(job.agencyId, job.period)), tipIds }))) return 'not-due';
  return sendClaimed(deps, job, marker, { to: { name: pro.name, address: pro.email }, rendered: built.rendered, agencyName: agency.name, preferences }, { agencyId: job.agencyId, proId: job.proId, period: job.period });
}

/**
 * Sends a claimed summary and settles its claim: `sent`; given back and queued again with backoff
 * when SES took nothing; left to the recovery sweep when SES may have taken it; `failed` (logged)
 * when SES refused it for good. It carries a one-click `List-Unsubscribe` (RFC 8058) to the
 * recipient's preference link.
 */
async function sendClaimed(
  deps: DeliveryDeps,
  job: Extract<SendJob, { kind: 'summary' | 'agency-summary' }>,
  marker: { PK: string; SK: string },
  mail: { to: { name?: string; address: string }; rendered: { subject: string; text: string; html: string }; agencyName: string; preferences: MailRecipient },
  ids: Record<string, string>,
): Promise<DeliveryOutcome> {
  const { db } = deps;
  const ref = mailRef(marker);
  const { rendered } = mail;
  const sent = await sendWithRetry(deps, {
    from: { name: senderName(mail.agencyName), address: deps.mailFrom },
    to: mail.to,
    ...rendered,
    text: withMailRef(rendered.text, ref),
    headers: listUnsubscribeHeaders(preferencesUrl(deps, mail.preferences, deps.now())),
    tags: mailTags(ref),
  });
  if (!('error' in sent)) {
    await mailSent(db, marker, deps.now(), sent.messageId);
    return 'sent';
  }
  if (sent.error.retryable && sent.error.notAccepted) {
    const countsOn = job.kind === 'summary' ? keys.summaryRun(job.agencyId, job.period) : undefined;
    if (!(await releaseMail(db, marker, countsOn))) return 'not-due';
    const retries = (job.retries ?? 0) + 1;
    await deps.requeue?.({ ...job, retries }, Math.round(retryDelaySeconds(retries)));
    return 'retry';
  }
  if (sent.error.retryable) return 'in-doubt';
  await mailFailed(db, marker, deps.now(), sent.error.code);
  deps.warn?.('email refused for good', { kind: job.kind, ...ids, failure: sent.error.code });
  return 'failed';
}

/**
 * An `agency-summary` job. Without `admin`, it settles the agency's summary of the period on the
 * run record and queues one job per address of `summary.adminEmails` (by the address's hash: jobs
 * carry ids only). With `admin`, it sends that admin the agency summary under a mail claim of its
 * own, so each admin gets it once, and one admin's throttling is retried without the others'.
 */
export async function deliverAgencySummary(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'agency-summary' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const agency = await getAgency(db, job.agencyId);
  const admins = agency.summary.adminEmails;
  if (job.admin === undefined) {
    const marker = keys.agencySummarySent(job.agencyId, job.period);
    if (!(await settle(db, marker, job.agencyId, job.period, { status: admins.length ? 'queued' : 'quiet', at: iso(deps.now()) }))) return 'not-due';
    await enqueue(deps, admins.map((address) => ({ ...job, admin: addressHash(address) })));
    return admins.length ? 'queued' : 'skipped';
  }
  const address = admins.find((a) => addressHash(a) === job.admin);
  // No longer an admin address of the agency: nothing to send.
  if (!address) return 'skipped';
  const marker = keys.agencyAdminSummarySent(job.agencyId, job.period, job.admin);
  // Stopped by the link in an earlier one: settled, never retried.
  if (!(await adminReceivesAgencySummary(db, job.agencyId, job.admin))) return (await claimOnce(db, marker, { status: 'unsubscribed', at: iso(deps.now()) })) ? 'skipped' : 'not-due';
  if (!(await claimOnce(db, marker, mailClaim(marker, job, deps.now())))) return 'not-due';
  const preferences: MailRecipient = { stream: 'agencySummary', agencyId: job.agencyId, adminHash: job.admin };
  let rendered;
  try {
    const model = await buildAgencySummary(db, agency, summaryPeriodOf(job.period, agency.timezone), consoleUrl(deps.publicUrl));
    rendered = renderAgencySummary(model, preferencesUrl(deps, preferences, deps.now()));
  } catch (error) {
    // Not built (a DynamoDB error): the claim is given back and the job, failing, is delivered again.
    await releaseMail(db, marker, undefined);
    throw error;
  }
  return sendClaimed(deps, job, marker, { to: { address }, rendered, agencyName: agency.name, preferences }, { agencyId: job.agencyId, period: job.period });
}

/** Puts a marker if none is there: false when one was. */
async function claimOnce(db: Db, marker: { PK: string; SK: string }, record: Record<string, unknown>): Promise<boolean> {
  return transactIfUnchanged(db, [{ Put: { TableName: db.table, Item: { ...marker, type: 'summarySent', ...record }, ConditionExpression: 'attribute_not_exists(PK)' } }]);
}

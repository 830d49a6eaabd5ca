import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { AGENCIES_PARTITION, keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import { queryAll } from '../db/page';
import type { Agency } from '../agency/agency';
import { listAllPros, type Pro } from '../pro/pro';
import { iso } from '../shared/time';
import { sendWithRetry, type RetryDeps } from '../sending/retry';
import { buildAgencySummary } from './agency-summary';
import { buildProSummary } from './build';
import { renderAgencySummary, renderProSummary } from './render';
import { dueSummaryPeriod, monthPeriod, previousPeriod, type SummaryPeriod } from './schedule';

export interface SummaryDeps extends RetryDeps {
  db: Db;
  mailFrom: string;
  publicUrl: string;
}

export interface SummaryRun {
  agenciesDue: number;
  sent: number;
  /** Pros with nothing new in the period: no email. */
  quiet: number;
  /** Summaries some earlier (or concurrent) run already sent. */
  alreadySent: number;
  failed: number;
}

/** The tips the pro got last period, so this period's differ. */
async function lastTipIds(db: Db, agencyId: string, proId: string, period: SummaryPeriod, timeZone: string): Promise<string[]> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.summarySent(agencyId, proId, previousPeriod(period, timeZone).key) }));
  return (Item?.tipIds as string[] | undefined) ?? [];
}

/** Claims a summary for sending: true for the one run that writes the marker first. */
async function claim(db: Db, key: { PK: string; SK: string }, record: Record<string, unknown>): Promise<boolean> {
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...key, type: 'summarySent', ...record }, ConditionExpression: 'attribute_not_exists(PK)' }));
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/** The preview (and the job's) view of a pro's summary for a period, rendered. */
export async function proSummaryFor(deps: Pick<SummaryDeps, 'db' | 'publicUrl'>, agency: Agency, pro: Pro, period: SummaryPeriod) {
  const tips = await lastTipIds(deps.db, agency.agencyId, pro.proId, period, agency.timezone);
  const summary = await buildProSummary(deps.db, agency, pro, period, { lastTipIds: tips, moreUrl: `${deps.publicUrl}/docs` });
  return summary ? { summary, rendered: renderProSummary(summary) } : null;
}

/** One pro's summary for a period, unless it went out already or the period was quiet. */
async function sendProSummary(deps: SummaryDeps, agency: Agency, pro: Pro, period: SummaryPeriod, now: Date, run: SummaryRun): Promise<void> {
  const key = keys.summarySent(agency.agencyId, pro.proId, period.key);
  // Most hourly runs find the summary sent already: a read is cheaper than building it again.
  const { Item: done } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key }));
  if (done) {
    run.alreadySent++;
    return;
  }
  const built = await proSummaryFor(deps, agency, pro, period);
  if (!built) {
    run.quiet++;
    return;
  }
  const tipIds = built.summary.weakest?.tips.map((t) => t.id) ?? [];
  if (!(await claim(deps.db, key, { sentAt: iso(now), tipIds }))) {
    run.alreadySent++;
    return;
  }
  const sent = await sendWithRetry(deps, { from: { name: 'Rapport', address: deps.mailFrom }, to: { name: pro.name, address: pro.email }, ...built.rendered });
  if ('error' in sent) {
    // Throttling and outages: the next hourly run tries again. A rejection stays recorded, not retried every hour.
    if (sent.error.retryable) await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: key }));
    else await deps.db.doc.send(new PutCommand({ TableName: deps.db.table, Item: { ...key, type: 'summarySent', failedAt: iso(now), failure: sent.error.code, tipIds } }));
    run.failed++;
    return;
  }
  run.sent++;
}

/**
 * The hourly summary job. For every agency whose slot has passed, each pro with something new in
 * the period gets one summary, ever: a conditional put of `SUM/<period>` claims it before the
 * email goes out, so a second run, or two at once, send nothing more. If SES refuses the email
 * the claim is released and the next hourly run tries again. Quiet periods send nothing. Agencies
 * with `summary.adminEmails` also get the agency summary, claimed the same way.
 * `period` (a `YYYY-MM`) forces a monthly summary of that month for every agency (by hand).
 */
export async function runSummaries(deps: SummaryDeps, now: Date, options: { period?: string } = {}): Promise<SummaryRun> {
  const run: SummaryRun = { agenciesDue: 0, sent: 0, quiet: 0, alreadySent: 0, failed: 0 };
  for await (const agencies of queryAll(deps.db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': AGENCIES_PARTITION },
  })) {
    for (const agency of agencies.map((a) => withoutKeys<Agency>(a))) {
      const period = options.period ? monthPeriod(options.period, agency.timezone) : dueSummaryPeriod(agency, now)?.period;
      if (!period) continue;
      run.agenciesDue++;
      for (const pro of await listAllPros(deps.db, agency.agencyId)) {
        try {
          await sendProSummary(deps, agency, pro, period, now, run);
        } catch (error) {
          // One pro's failure must not stop the summaries of the others; the next run retries.
          console.error(JSON.stringify({ level: 'error', message: 'summary failed', agencyId: agency.agencyId, proId: pro.proId, period: period.key, error: String(error) }));
          run.failed++;
        }
      }
      const admins = agency.summary.adminEmails;
      const agencyKey = keys.agencySummarySent(agency.agencyId, period.key);
      if (admins.length > 0 && (await claim(deps.db, agencyKey, { sentAt: iso(now) }))) {
        try {
          const rendered = renderAgencySummary(await buildAgencySummary(deps.db, agency, period, `${deps.publicUrl}/docs`));
          let delivered = 0;
          let retryable = false;
          for (const address of admins) {
            const sent = await sendWithRetry(deps, { from: { name: 'Rapport', address: deps.mailFrom }, to: { address }, ...rendered });
            if ('error' in sent) {
              run.failed++;
              retryable ||= sent.error.retryable;
            } else {
              delivered++;
              run.sent++;
            }
          }
          // Nobody got it and SES may take it later: the next hourly run tries again.
          if (delivered === 0 && retryable) await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: agencyKey }));
        } catch (error) {
          await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: agencyKey }));
          console.error(JSON.stringify({ level: 'error', message: 'agency summary failed', agencyId: agency.agencyId, period: period.key, error: String(error) }));
          run.failed++;
        }
      }
    }
  }
  return run;
}

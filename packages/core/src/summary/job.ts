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
        const built = await proSummaryFor(deps, agency, pro, period);
        if (!built) {
          run.quiet++;
          continue;
        }
        const key = keys.summarySent(agency.agencyId, pro.proId, period.key);
        const tipIds = built.summary.weakest?.tips.map((t) => t.id) ?? [];
        if (!(await claim(deps.db, key, { sentAt: iso(now), tipIds }))) {
          run.alreadySent++;
          continue;
        }
        const sent = await sendWithRetry(deps, {
          from: { name: 'Rapport', address: deps.mailFrom },
          to: { name: pro.name, address: pro.email },
          ...built.rendered,
        });
        if ('error' in sent) {
          await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: key }));
          run.failed++;
          continue;
        }
        run.sent++;
      }
      const admins = agency.summary.adminEmails;
      if (admins.length > 0 && (await claim(deps.db, keys.agencySummarySent(agency.agencyId, period.key), { sentAt: iso(now) }))) {
        const summary = await buildAgencySummary(deps.db, agency, period, `${deps.publicUrl}/docs`);
        const rendered = renderAgencySummary(summary);
        for (const address of admins) {
          const sent = await sendWithRetry(deps, { from: { name: 'Rapport', address: deps.mailFrom }, to: { address }, ...rendered });
          if ('error' in sent) run.failed++;
          else run.sent++;
        }
      }
    }
  }
  return run;
}

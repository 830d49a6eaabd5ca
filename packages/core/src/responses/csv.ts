import type { Db } from '../db/client';
import { csvRows } from '../export/csv';
import { DIMENSIONS } from '../survey/instrument';
import { exportResponses, type ResponseFilter, type ResponseView, type WithheldGroup } from './listing';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The columns of `GET /v1/responses.csv`, in order. Stable: new columns are only ever appended.
 * `record` is `response` for a response and `withheld` for a campaign × audience group left out
 * for anonymity (those rows come last and carry only the campaign, audience and `withheld_n`).
 */
export const RESPONSE_CSV_COLUMNS = [
  'record',
  'first_submitted_at',
  'submitted_at',
  'revision',
  'period',
  'pro_id',
  'campaign_id',
  'campaign_name',
  'audience',
  'attribution',
  'survey_id',
  'invitation_id',
  'respondent_name',
  'respondent_email',
  'respondent_outlet',
  'instrument_version',
  'responsiveness',
  'recommend',
  ...DIMENSIONS.map(snake),
  'improve',
  'quote_consent',
  'withheld_n',
] as const;

/** One response as a row of RESPONSE_CSV_COLUMNS. Numbers stay numbers; absent answers are empty cells. */
export function responseCsvRow(r: ResponseView): unknown[] {
  return [
    'response',
    r.firstSubmittedAt,
    r.submittedAt,
    r.revision,
    r.period,
    r.proId,
    r.campaignId,
    r.campaignName,
    r.audience,
    r.attribution,
    r.surveyId,
    r.invitationId,
    r.respondent?.name,
    r.respondent?.email,
    r.respondent?.outlet,
    r.instrumentVersion,
    r.answers.responsiveness,
    r.answers.recommend,
    ...DIMENSIONS.map((d) => r.answers[d]),
    r.answers.improve,
    r.answers.quoteConsent,
    null,
  ];
}

function withheldCsvRow(g: WithheldGroup): unknown[] {
  const row: unknown[] = RESPONSE_CSV_COLUMNS.map(() => null);
  const set = (column: (typeof RESPONSE_CSV_COLUMNS)[number], value: unknown) => (row[RESPONSE_CSV_COLUMNS.indexOf(column)] = value);
  set('record', 'withheld');
  set('campaign_id', g.campaignId);
  set('campaign_name', g.campaignName);
  set('audience', g.audience);
  set('withheld_n', g.n);
  return row;
}

/**
 * The export as CSV records (strings), header first, pulled page by page as the consumer reads:
 * memory holds one page of responses, whatever the size of the export. Filters are checked (and a
 * 400 or 404 thrown) before the first record.
 */
export async function responsesCsv(db: Db, agencyId: string, filter: ResponseFilter): Promise<AsyncGenerator<string>> {
  const { pages, withheld } = await exportResponses(db, agencyId, filter);
  async function* rows(): AsyncGenerator<unknown[]> {
    try {
      for await (const page of pages) for (const r of page) yield responseCsvRow(r);
      for (const g of withheld()) yield withheldCsvRow(g);
    } finally {
      // A client that goes away stops the reads.
      await pages.return(undefined);
    }
  }
  return csvRows(RESPONSE_CSV_COLUMNS, rows());
}

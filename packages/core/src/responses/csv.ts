import type { Db } from '../db/client';
import { csvRows } from '../export/csv';
import { DIMENSIONS } from '../survey/instrument';
import { exportResponses, type ResponseFilter, type ResponseView } from './listing';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The columns of `GET /v1/responses.csv`, in order. Stable: new columns are only ever appended.
 * Rows are released answers; on anonymous batches the times, revision and ids are empty and the
 * campaign and period are the batch's. `record` (always `response`) and `withheld_n` (always
 * empty) stay for column stability: since answers are released in batches of at least k, no group
 * is left out any more.
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
  'released_at',
  'batch_id',
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
    r.releasedAt,
    r.batchId,
  ];
}

/**
 * The export as CSV records (strings), header first, pulled page by page as the consumer reads:
 * memory holds one page of responses, whatever the size of the export. Filters are checked (and a
 * 400 or 404 thrown) before the first record.
 */
export async function responsesCsv(db: Db, agencyId: string, filter: ResponseFilter): Promise<AsyncGenerator<string>> {
  const { pages } = await exportResponses(db, agencyId, filter);
  async function* rows(): AsyncGenerator<unknown[]> {
    try {
      for await (const page of pages) for (const r of page) yield responseCsvRow(r);
    } finally {
      // A client that goes away stops the reads.
      await pages.return(undefined);
    }
  }
  return csvRows(RESPONSE_CSV_COLUMNS, rows());
}

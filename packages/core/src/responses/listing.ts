import * as v from 'valibot';
import { responseOf } from '../survey/response-item';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { tableDefinition, type IndexName } from '../db/table';
import type { PageRequest } from '../db/page';
import { getAgency } from '../agency/read';
import { getCampaign } from '../campaign/read';
import { getPro } from '../pro/read';
import { ROW_KEY } from '../release/batch';
import { ValidationError } from '../shared/errors';
import { idFilter, isCalendarDay, NOT_A_DAY } from '../shared/schemas';
import { AUDIENCES, type Audience } from '../survey/instrument';
import type { SurveyResponse } from '../survey/response';

/**
 * Listing released answers and testimonials (DESIGN "Anonymity, by construction").
 *
 * Only released rows are listed: an anonymous answer appears once its batch of at least k is
 * released, a named one when given. A row of an anonymous batch carries the batch's attributes
 * only — audience, the batch's campaign (null for a pooled batch: "several campaigns"), the
 * batch's month and release time — and the answers: no respondent, outlet, survey or invitation
 * id, and no time of answer or revision count (with the invitation list those would tell who gave
 * which). Rows are ordered by release, then batch, then a random key drawn at release, so the
 * order says nothing about who answered first; the cursor is that key.
 */

/** An instant as ISO 8601: a date (midnight UTC) or a date and time with `Z` or an offset. */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const isInstant = (s: string) => INSTANT.test(s) && !Number.isNaN(Date.parse(s));
const Instant = v.pipe(
  v.string(),
  v.check(isInstant, 'must be an ISO 8601 date or time, e.g. 2030-01-31 or 2030-01-31T09:00:00Z'),
  // One message a field: a string the format check refused is not looked at again.
  v.check((s) => !isInstant(s) || isCalendarDay(s), NOT_A_DAY),
  v.transform((s) => new Date(s).toISOString()),
);

/** The filters of `GET /v1/responses`, `/v1/responses.csv` and `/v1/testimonials`. Unknown names are errors. */
export const ResponseFilterEntries = {
  proId: v.optional(v.pipe(idFilter('pro', 'pro'), v.description('Only this pro\'s responses.'))),
  campaignId: v.optional(v.pipe(idFilter('cmp', 'campaign'), v.description('Only this campaign\'s responses.'))),
  audience: v.optional(v.pipe(v.picklist(AUDIENCES, 'must be reporter, colleague or client'), v.description('Only this audience\'s responses.'))),
  since: v.optional(v.pipe(Instant, v.description('Answers released at or after this instant (ISO 8601).'))),
  until: v.optional(v.pipe(Instant, v.description('Answers released before this instant (ISO 8601).'))),
};
export const ResponseFilterSchema = v.strictObject(ResponseFilterEntries, 'is not a known parameter');
export type ResponseFilter = v.InferOutput<typeof ResponseFilterSchema>;

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  anonymityThreshold: number;
}

/**
 * A released answer as it leaves the system. On anonymous batches the campaign, month and
 * release are the batch's and everything that would point at a person or a moment is null.
 */
export type ResponseView = Omit<SurveyResponse, 'roundId' | 'invitationId' | 'agencyId' | 'release' | 'campaignId' | 'campaignName' | 'firstSubmittedAt' | 'submittedAt' | 'revision'> & {
  batchId: string;
  releasedAt: string;
  surveyId: string | null;
  invitationId: string | null;
  /** Null for a pooled batch (answers from several campaigns). */
  campaignId: string | null;
  campaignName: string | null;
  /** Named rounds only. */
  firstSubmittedAt: string | null;
  submittedAt: string | null;
  revision: number | null;
};

/** A promoter's comment, consented to be quoted. */
export interface TestimonialView {
  quote: string;
  recommend: number;
  proId: string;
  campaignId: string | null;
  campaignName: string | null;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  /** Named rounds only, and no email: the consent was to quote the comment, so ask before printing a name. */
  respondent: { name: string | null; outlet: string | null } | null;
  period: string;
  batchId: string;
  releasedAt: string;
}

export function presentResponse(r: SurveyResponse): ResponseView {
  const named = r.attribution === 'named';
  const release = r.release!;
  return {
    batchId: release.batchId,
    releasedAt: release.releasedAt,
    surveyId: named ? r.roundId : null,
    invitationId: named ? r.invitationId : null,
    proId: r.proId,
    campaignId: release.campaignId,
    campaignName: release.campaignName,
    audience: r.audience,
    attribution: r.attribution,
    respondent: named && r.respondent ? { name: r.respondent.name, email: r.respondent.email, outlet: r.respondent.outlet } : null,
    period: release.period,
    instrumentVersion: r.instrumentVersion,
    answers: r.answers,
    firstSubmittedAt: named ? r.firstSubmittedAt : null,
    submittedAt: named ? r.submittedAt : null,
    revision: named ? r.revision : null,
  };
}

export function presentTestimonial(r: SurveyResponse): TestimonialView {
  const named = r.attribution === 'named';
  const release = r.release!;
  return {
    quote: r.answers.improve ?? '',
    recommend: r.answers.recommend ?? 0,
    proId: r.proId,
    campaignId: release.campaignId,
    campaignName: release.campaignName,
    audience: r.audience,
    attribution: r.attribution,
    respondent: named && r.respondent ? { name: r.respondent.name, outlet: r.respondent.outlet } : null,
    period: release.period,
    batchId: release.batchId,
    releasedAt: release.releasedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Cursor: the last row's key (release, batch, random), which names no partition.

function decodeCursor(cursor: string): string {
  const invalid = ValidationError.field('cursor', 'is not a cursor returned by this list');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const after = (decoded as { after?: unknown } | null)?.after;
  if (typeof after !== 'string' || !ROW_KEY.test(after)) throw invalid;
  return after;
}

const encodeCursor = (after: string): string => Buffer.from(JSON.stringify({ after })).toString('base64url');

// ---------------------------------------------------------------------------------------------
// The plan: which partition to read, and what to filter there.

interface Plan {
  index?: IndexName;
  partition: string;
  /** Conditions on item attributes (FilterExpression), all ANDed; campaign is the batch's. */
  where: Partial<Record<'proId' | 'campaignId' | 'audience', string>>;
  since?: string | undefined;
  until?: string | undefined;
}

/**
 * Checks the filters against the agency (a pro or campaign of another agency is a 404) and picks
 * the narrowest partition: a pro's released rows (GSI2) when a pro or campaign is named, else the
 * agency's (GSI1); or the agency's testimonials.
 */
async function plan(db: Db, agencyId: string, filter: ResponseFilter, kind: 'responses' | 'testimonials'): Promise<Plan> {
  if (filter.since && filter.until && filter.since >= filter.until) throw ValidationError.field('until', 'must be after `since`');
  let proId = filter.proId;
  if (filter.campaignId) {
    const campaign = await getCampaign(db, agencyId, filter.campaignId);
    if (proId !== undefined && campaign.proId !== proId) throw ValidationError.field('campaignId', 'is not a campaign of `proId`');
    proId = campaign.proId;
  } else if (proId) {
    await getPro(db, agencyId, proId);
  }
  const where: Plan['where'] = {};
  if (filter.campaignId) where.campaignId = filter.campaignId;
  if (filter.audience) where.audience = filter.audience;
  const window = { since: filter.since, until: filter.until };
  if (kind === 'testimonials') {
    if (proId) where.proId = proId;
    return { partition: keys.testimonial(agencyId, '').PK, where, ...window };
  }
  return proId
    ? { index: 'GSI2', partition: keys.releasedByPro(agencyId, proId, '').GSI2PK, where, ...window }
    : { index: 'GSI1', partition: keys.releasedByAgency(agencyId, '').GSI1PK, where, ...window };
}

/**
 * Filter conditions on a row, each on its value `:v`. A row's campaign is its batch's (a pooled row
 * has none): its release names it where it differs from the row's own (`storedRelease`).
 */
const FILTERS = {
  proId: { expression: '#proId = :v', names: { '#proId': 'proId' } },
  audience: { expression: '#audience = :v', names: { '#audience': 'audience' } },
  campaignId: {
    expression: '(#release.#campaignId = :v OR (attribute_not_exists(#release.#campaignId) AND #campaignId = :v))',
    names: { '#release': 'release', '#campaignId': 'campaignId' },
  },
} as const;

function queryInput(p: Plan, after: string | undefined, limit: number): Omit<QueryCommandInput, 'TableName'> {
  const names = p.index ? tableDefinition.globalIndexes[p.index] : tableDefinition;
  // Row keys all have one length and start with the release instant: `since` sorts before every
  // key at that instant, `until` too (so BETWEEN … AND until excludes it), and `after` + ' '
  // sorts after the cursor's key but before every later one.
  const lo = [p.since, after === undefined ? undefined : `${after} `].filter((x): x is string => x !== undefined).sort().at(-1) ?? '0';
  const hi = p.until ?? '~';
  const filters = Object.entries(p.where) as [keyof typeof FILTERS, string][];
  return {
    ...(p.index ? { IndexName: p.index } : {}),
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
    ...(filters.length ? { FilterExpression: filters.map(([n], i) => FILTERS[n].expression.replaceAll(':v', `:f${i}`)).join(' AND ') } : {}),
    ExpressionAttributeNames: {
      '#pk': names.partitionKey,
      '#sk': names.sortKey,
      ...Object.assign({}, ...filters.map(([n]) => FILTERS[n].names)),
    },
    ExpressionAttributeValues: { ':pk': p.partition, ':lo': lo, ':hi': hi, ...Object.fromEntries(filters.map(([, value], i) => [`:f${i}`, value])) },
    Limit: limit,
  };
}

// ---------------------------------------------------------------------------------------------
// One page.

/** Most queries one API page may issue (a page can then hold fewer items than asked, or none). */
const MAX_QUERIES_PER_PAGE = 10;

async function readPage<T>(db: Db, p: Plan, k: number, page: PageRequest, present: (r: SurveyResponse) => T, maxQueries = MAX_QUERIES_PER_PAGE): Promise<ListPage<T>> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  // A cursor past `until` (reused with other filters) leaves nothing to read; BETWEEN would refuse it.
  if (after !== undefined && p.until !== undefined && after >= p.until) return { items: [], nextCursor: null, anonymityThreshold: k };
  const sortKey = p.index ? tableDefinition.globalIndexes[p.index].sortKey : 'SK';
  const items: T[] = [];
  let last = after;
  let more = false;
  let startKey: Record<string, unknown> | undefined;
  read: for (let queries = 0; ; queries++) {
    if (queries === maxQueries) {
      // Every matching row up to the last evaluated key was seen: resume after it.
      more = true;
      last = String(startKey![sortKey]);
      break;
    }
    const result = await db.doc.send(new QueryCommand({ ...queryInput(p, after, page.limit + 1), TableName: db.table, ExclusiveStartKey: startKey }));
    for (const raw of result.Items ?? []) {
      if (items.length === page.limit) {
        more = true;
        break read;
      }
      items.push(present(responseOf(raw)));
      last = String(raw[sortKey]);
    }
    if (!result.LastEvaluatedKey) break;
    startKey = result.LastEvaluatedKey;
  }
  return { items, nextCursor: more && last ? encodeCursor(last) : null, anonymityThreshold: k };
}

async function threshold(db: Db, agencyId: string): Promise<number> {
  return (await getAgency(db, agencyId)).anonymityThreshold;
}

/** One page of the agency's released answers, oldest release first. */
export async function listResponses(db: Db, agencyId: string, filter: ResponseFilter, page: PageRequest): Promise<ListPage<ResponseView>> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'responses'), threshold(db, agencyId)]);
  return readPage(db, p, k, page, presentResponse);
}

/** One page of the agency's testimonials (promoters' consented comments), oldest release first. */
export async function listTestimonials(db: Db, agencyId: string, filter: ResponseFilter, page: PageRequest): Promise<ListPage<TestimonialView>> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'testimonials'), threshold(db, agencyId)]);
  return readPage(db, p, k, page, presentTestimonial);
}

/** Page size of an export's internal reads: memory holds one such page at a time. */
const EXPORT_PAGE_SIZE = 1000;

/**
 * Every released answer the filters select, page after page, for a streamed export: yields one
 * page at a time, pulled as the consumer reads. Checks the filters before yielding anything, so a
 * bad filter is an error response, not a broken file.
 */
export async function exportResponses(db: Db, agencyId: string, filter: ResponseFilter): Promise<{ anonymityThreshold: number; pages: AsyncGenerator<ResponseView[]> }> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'responses'), threshold(db, agencyId)]);
  async function* pages(): AsyncGenerator<ResponseView[]> {
    let cursor: string | undefined;
    do {
      const page = await readPage(db, p, k, { limit: EXPORT_PAGE_SIZE, cursor }, presentResponse, Number.POSITIVE_INFINITY);
      if (page.items.length) yield page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return { anonymityThreshold: k, pages: pages() };
}

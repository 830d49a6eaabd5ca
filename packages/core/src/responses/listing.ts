import * as v from 'valibot';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { batchGet, itemKey } from '../db/batch';
import { tableDefinition, type IndexName } from '../db/table';
import type { PageRequest } from '../db/page';
import { getAgency } from '../agency/agency';
import { getCampaign } from '../campaign/campaign';
import { getPro } from '../pro/pro';
import { readCounter, responsesIn } from '../scores/counters';
import { ValidationError } from '../shared/errors';
import { isId } from '../shared/ids';
import { AUDIENCES, type Audience } from '../survey/instrument';
import type { SurveyResponse } from '../survey/response';

/**
 * Listing responses and testimonials under the anonymity rule (DESIGN "Scores", issue 4).
 *
 * The group is the campaign × audience. Its size for the rule is the number of responses from
 * anonymous rounds, read from the campaign counter's `anonymous` field: counting named responses
 * too would let a lone anonymous answer pass beside four named ones, and be picked out as "the one
 * without a name". A group holding 1 to k−1 anonymous responses is left out whole — its named
 * responses too, because the campaign's scores publish the group's totals, and the totals minus
 * the named answers shown would be the anonymous answers. The page names each group it left out,
 * with its n.
 *
 * What leaves for an anonymous response: the answers, audience, campaign, pro, period and times —
 * no respondent, no outlet, no survey or invitation id (the invitation list joins those to an
 * address). For the same reason the cursor is not the table key (whose sort key ends in the
 * invitation id) but a position in time: `{ t: firstSubmittedAt, s: how many responses at that
 * instant were already consumed }`.
 */

/** An instant as ISO 8601: a date (midnight UTC) or a date and time with `Z` or an offset. */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const Instant = v.pipe(
  v.string(),
  v.check((s) => INSTANT.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or time, e.g. 2030-01-31 or 2030-01-31T09:00:00Z'),
  v.transform((s) => new Date(s).toISOString()),
);

/** The filters of `GET /v1/responses`, `/v1/responses.csv` and `/v1/testimonials`. Unknown names are errors. */
export const ResponseFilterEntries = {
  proId: v.optional(v.pipe(v.string(), v.check((s) => isId('pro', s), 'is not a pro id'), v.description('Only this pro\'s responses.'))),
  campaignId: v.optional(v.pipe(v.string(), v.check((s) => isId('cmp', s), 'is not a campaign id'), v.description('Only this campaign\'s responses.'))),
  audience: v.optional(v.picklist(AUDIENCES, 'must be reporter, colleague or client')),
  since: v.optional(v.pipe(Instant, v.description('Responses first submitted at or after this instant (ISO 8601).'))),
  until: v.optional(v.pipe(Instant, v.description('Responses first submitted before this instant (ISO 8601).'))),
};
export const ResponseFilterSchema = v.strictObject(ResponseFilterEntries, 'is not a known parameter');
export type ResponseFilter = v.InferOutput<typeof ResponseFilterSchema>;

/** A campaign × audience group left out for anonymity. */
export interface WithheldGroup {
  campaignId: string;
  campaignName: string;
  audience: Audience;
  /** Responses in the group (every round of the campaign). */
  n: number;
  /** Of which from anonymous rounds: fewer than the threshold. */
  anonymous: number;
}

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  anonymityThreshold: number;
  withheld: WithheldGroup[];
}

/**
 * A response as it leaves the system: the stored response without its internal ids, the round and
 * invitation ids named only on named rounds (on anonymous ones they would link to an address).
 */
export type ResponseView = Omit<SurveyResponse, 'roundId' | 'invitationId' | 'agencyId'> & {
  surveyId: string | null;
  invitationId: string | null;
};

/** A promoter's comment, consented to be quoted. */
export interface TestimonialView {
  quote: string;
  recommend: number;
  proId: string;
  campaignId: string;
  campaignName: string;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  /** Named rounds only, and no email: the consent was to quote the comment, so ask before printing a name. */
  respondent: { name: string | null; outlet: string | null } | null;
  period: string;
  firstSubmittedAt: string;
  submittedAt: string;
}

export function presentResponse(r: SurveyResponse): ResponseView {
  const named = r.attribution === 'named';
  return {
    surveyId: named ? r.roundId : null,
    invitationId: named ? r.invitationId : null,
    proId: r.proId,
    campaignId: r.campaignId,
    campaignName: r.campaignName,
    audience: r.audience,
    attribution: r.attribution,
    respondent: named && r.respondent ? { name: r.respondent.name, email: r.respondent.email, outlet: r.respondent.outlet } : null,
    period: r.period,
    instrumentVersion: r.instrumentVersion,
    answers: r.answers,
    firstSubmittedAt: r.firstSubmittedAt,
    submittedAt: r.submittedAt,
    revision: r.revision,
  };
}

export function presentTestimonial(r: SurveyResponse): TestimonialView {
  const named = r.attribution === 'named';
  return {
    quote: r.answers.improve ?? '',
    recommend: r.answers.recommend ?? 0,
    proId: r.proId,
    campaignId: r.campaignId,
    campaignName: r.campaignName,
    audience: r.audience,
    attribution: r.attribution,
    respondent: named && r.respondent ? { name: r.respondent.name, outlet: r.respondent.outlet } : null,
    period: r.period,
    firstSubmittedAt: r.firstSubmittedAt,
    submittedAt: r.submittedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Cursor: a position in time, never a table key.

interface Position {
  t: string;
  s: number;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function decodePosition(cursor: string): Position {
  const invalid = ValidationError.field('cursor', 'is not a cursor returned by this list');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const p = decoded as Partial<Position> | null;
  if (typeof p !== 'object' || p === null || typeof p.t !== 'string' || !ISO_UTC.test(p.t) || !Number.isSafeInteger(p.s) || p.s! < 0) throw invalid;
  return { t: p.t, s: p.s! };
}

const encodePosition = (p: Position): string => Buffer.from(JSON.stringify({ t: p.t, s: p.s })).toString('base64url');

// ---------------------------------------------------------------------------------------------
// The plan: which partition to read, and what to filter there.

interface Plan {
  index?: IndexName;
  partition: string;
  /** Conditions on item attributes (FilterExpression), all ANDed. */
  where: Partial<Record<'proId' | 'campaignId' | 'audience', string>>;
  since?: string | undefined;
  until?: string | undefined;
}

/**
 * Checks the filters against the agency (a pro or campaign of another agency is a 404) and picks
 * the narrowest partition: a pro's timeline (GSI2) when a pro or campaign is named, else the
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
    return { partition: keys.testimonial(agencyId, '', '').PK, where, ...window };
  }
  return proId
    ? { index: 'GSI2', partition: keys.responseByPro(agencyId, proId, '', '').GSI2PK, where, ...window }
    : { index: 'GSI1', partition: keys.responseByAgency(agencyId, '', '').GSI1PK, where, ...window };
}

function queryInput(p: Plan, from: string | undefined, limit: number): Omit<QueryCommandInput, 'TableName'> {
  const names = p.index ? tableDefinition.globalIndexes[p.index] : tableDefinition;
  // Sort keys are `<firstSubmittedAt>#<invitationId>`, the time always 24 characters: `until`
  // itself sorts before every key at that instant, so BETWEEN … AND until excludes it.
  const lo = [p.since, from].filter((x): x is string => x !== undefined).sort().at(-1) ?? '0';
  const hi = p.until ?? '~';
  const filters = Object.entries(p.where);
  return {
    ...(p.index ? { IndexName: p.index } : {}),
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
    ...(filters.length ? { FilterExpression: filters.map((_, i) => `#f${i} = :f${i}`).join(' AND ') } : {}),
    ExpressionAttributeNames: { '#pk': names.partitionKey, '#sk': names.sortKey, ...Object.fromEntries(filters.map(([n], i) => [`#f${i}`, n])) },
    ExpressionAttributeValues: { ':pk': p.partition, ':lo': lo, ':hi': hi, ...Object.fromEntries(filters.map(([, value], i) => [`:f${i}`, value])) },
    Limit: limit,
  };
}

// ---------------------------------------------------------------------------------------------
// The anonymity rule, with the campaign counters read once per group.

const groupKey = (r: Pick<SurveyResponse, 'campaignId' | 'audience'>) => `${r.campaignId}#${r.audience}`;

/** Group sizes by `campaignId#audience`, read on demand (one BatchGet per batch of new groups). */
export class GroupSizes {
  private readonly sizes = new Map<string, { n: number; anonymous: number; known: boolean }>();
  constructor(
    private readonly db: Db,
    private readonly agencyId: string,
    readonly k: number,
  ) {}

  async load(responses: readonly SurveyResponse[]): Promise<void> {
    const missing = new Map<string, { PK: string; SK: string }>();
    for (const r of responses) {
      const g = groupKey(r);
      if (!this.sizes.has(g)) missing.set(g, keys.campaignCounter(this.agencyId, r.campaignId, r.audience));
    }
    if (missing.size === 0) return;
    const found = await batchGet(this.db, [...missing.values()]);
    for (const [g, key] of missing) {
      const raw = found.get(itemKey(key));
      // Every response is counted in the transaction that stores it, so a missing counter is an
      // inconsistency: fail closed, and leave the group out.
      const counter = raw ? readCounter(raw) : null;
      this.sizes.set(g, counter ? { n: responsesIn(counter), anonymous: counter.anonymous, known: true } : { n: 0, anonymous: 0, known: false });
    }
  }

  /** The group's sizes when it must be left out; null when its responses may be shown. */
  withheld(r: SurveyResponse): { n: number; anonymous: number } | null {
    const size = this.sizes.get(groupKey(r));
    if (!size) throw new Error(`group ${groupKey(r)} was not loaded`);
    return !size.known || (size.anonymous > 0 && size.anonymous < this.k) ? { n: size.n, anonymous: size.anonymous } : null;
  }
}

// ---------------------------------------------------------------------------------------------
// One page.

/** Most queries one API page may issue (a page can then hold fewer items than asked, or none). */
const MAX_QUERIES_PER_PAGE = 10;

async function readPage<T>(
  db: Db,
  p: Plan,
  groups: GroupSizes,
  page: PageRequest,
  present: (r: SurveyResponse) => T,
  maxQueries = MAX_QUERIES_PER_PAGE,
): Promise<ListPage<T>> {
  const start = page.cursor ? decodePosition(page.cursor) : undefined;
  const empty = { items: [], nextCursor: null, anonymityThreshold: groups.k, withheld: [] };
  // A cursor past `until` (reused with other filters) leaves nothing to read; BETWEEN would refuse it.
  if (start && p.until !== undefined && start.t >= p.until) return empty;
  let skip = start?.s ?? 0;
  let position: Position | undefined = start && { ...start };
  const items: T[] = [];
  const withheld = new Map<string, WithheldGroup>();
  let more = false;
  let startKey: Record<string, unknown> | undefined;
  const consume = (t: string) => {
    position = position?.t === t ? { t, s: position.s + 1 } : { t, s: 1 };
  };

  for (let queries = 0; ; queries++) {
    if (queries === maxQueries) {
      more = true;
      // Every matching item up to the last evaluated key was consumed: resume after it.
      const t = String(startKey![p.index ? tableDefinition.globalIndexes[p.index].sortKey : 'SK']).slice(0, 24);
      if (position?.t !== t) position = { t, s: 0 };
      break;
    }
    const result = await db.doc.send(new QueryCommand({ ...queryInput(p, start?.t, page.limit + 1), TableName: db.table, ExclusiveStartKey: startKey }));
    const batch = (result.Items ?? []).map((raw) => withoutKeys<SurveyResponse>(raw));
    await groups.load(batch);
    let full = false;
    for (const r of batch) {
      if (skip > 0 && r.firstSubmittedAt === start!.t) {
        skip--;
        continue;
      }
      skip = 0;
      if (items.length === page.limit) {
        full = true;
        break;
      }
      consume(r.firstSubmittedAt);
      const hidden = groups.withheld(r);
      if (hidden) {
        withheld.set(groupKey(r), { campaignId: r.campaignId, campaignName: r.campaignName, audience: r.audience, ...hidden });
      } else {
        items.push(present(r));
      }
    }
    if (full) {
      more = true;
      break;
    }
    if (!result.LastEvaluatedKey) break;
    startKey = result.LastEvaluatedKey;
  }
  return {
    items,
    nextCursor: more && position ? encodePosition(position) : null,
    anonymityThreshold: groups.k,
    withheld: [...withheld.values()],
  };
}

async function threshold(db: Db, agencyId: string): Promise<number> {
  return (await getAgency(db, agencyId)).anonymityThreshold;
}

/** One page of the agency's responses, oldest first, under the anonymity rule. */
export async function listResponses(db: Db, agencyId: string, filter: ResponseFilter, page: PageRequest): Promise<ListPage<ResponseView>> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'responses'), threshold(db, agencyId)]);
  return readPage(db, p, new GroupSizes(db, agencyId, k), page, presentResponse);
}

/** One page of the agency's testimonials (promoters' consented comments), oldest first, under the same rule. */
export async function listTestimonials(db: Db, agencyId: string, filter: ResponseFilter, page: PageRequest): Promise<ListPage<TestimonialView>> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'testimonials'), threshold(db, agencyId)]);
  return readPage(db, p, new GroupSizes(db, agencyId, k), page, presentTestimonial);
}

/** Page size of an export's internal reads: memory holds one such page at a time. */
const EXPORT_PAGE_SIZE = 1000;

/**
 * Every response the filters select, page after page, for a streamed export: yields one page at
 * a time, pulled as the consumer reads, and the withheld groups once at the end. Checks the
 * filters before yielding anything, so a bad filter is an error response, not a broken file.
 */
export async function exportResponses(
  db: Db,
  agencyId: string,
  filter: ResponseFilter,
): Promise<{ anonymityThreshold: number; pages: AsyncGenerator<ResponseView[]>; withheld: () => WithheldGroup[] }> {
  const [p, k] = await Promise.all([plan(db, agencyId, filter, 'responses'), threshold(db, agencyId)]);
  const groups = new GroupSizes(db, agencyId, k);
  const withheld = new Map<string, WithheldGroup>();
  async function* pages(): AsyncGenerator<ResponseView[]> {
    let cursor: string | undefined;
    do {
      const page = await readPage(db, p, groups, { limit: EXPORT_PAGE_SIZE, cursor }, presentResponse, Number.POSITIVE_INFINITY);
      for (const g of page.withheld) withheld.set(groupKey(g), g);
      if (page.items.length) yield page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return { anonymityThreshold: k, pages: pages(), withheld: () => [...withheld.values()] };
}

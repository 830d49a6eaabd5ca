import { Hono } from 'hono';
import * as v from 'valibot';
import { describeRoute } from 'hono-openapi';
import {
  AUDIENCES,
  DIMENSIONS,
  listResponses,
  listTestimonials,
  RESPONSE_CSV_COLUMNS,
  ResponseFilterEntries,
  ResponseFilterSchema,
  responsesCsv,
  toCsvStream,
  type ListPage,
} from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { PageQuery } from '../schemas';

const tags = ['Responses'];
const Timestamp = v.pipe(v.string(), v.isoTimestamp());
const score = v.number();

const AnswersOut = v.object({
  responsiveness: score,
  recommend: v.optional(score),
  ...Object.fromEntries(DIMENSIONS.map((d) => [d, v.optional(score)])),
  improve: v.optional(v.string()),
  quoteConsent: v.boolean(),
});

const ResponseOut = v.object({
  surveyId: v.pipe(v.nullable(v.string()), v.description('Named rounds only.')),
  invitationId: v.pipe(v.nullable(v.string()), v.description('Named rounds only.')),
  proId: v.string(),
  campaignId: v.string(),
  campaignName: v.string(),
  audience: v.picklist(AUDIENCES),
  attribution: v.picklist(['anonymous', 'named']),
  respondent: v.pipe(
    v.nullable(v.object({ name: v.nullable(v.string()), email: v.string(), outlet: v.nullable(v.string()) })),
    v.description('Named rounds only; null on anonymous rounds.'),
  ),
  period: v.pipe(v.string(), v.description('The month (`YYYY-MM`) whose scores the response counts in.')),
  instrumentVersion: v.number(),
  answers: AnswersOut,
  firstSubmittedAt: Timestamp,
  submittedAt: v.pipe(Timestamp, v.description('The latest revision.')),
  revision: v.number(),
});

const TestimonialOut = v.object({
  quote: v.string(),
  recommend: v.number(),
  proId: v.string(),
  campaignId: v.string(),
  campaignName: v.string(),
  audience: v.picklist(AUDIENCES),
  attribution: v.picklist(['anonymous', 'named']),
  respondent: v.pipe(
    v.nullable(v.object({ name: v.nullable(v.string()), outlet: v.nullable(v.string()) })),
    v.description('Named rounds only. The consent was to quote the comment without the name: ask before printing it.'),
  ),
  period: v.string(),
  firstSubmittedAt: Timestamp,
  submittedAt: Timestamp,
});

const WithheldOut = v.object({
  campaignId: v.string(),
  campaignName: v.string(),
  audience: v.picklist(AUDIENCES),
  n: v.pipe(v.number(), v.description('Responses in the group.')),
  anonymous: v.pipe(v.number(), v.description('Of which from anonymous rounds: below the threshold.')),
});

const listOf = <T extends v.GenericSchema>(item: T) =>
  v.object({
    data: v.array(item),
    next_cursor: v.pipe(
      v.nullable(v.string()),
      v.description('Pass as `cursor` for the next page; null on the last. A page may hold fewer items than `limit` (even none) when groups were left out.'),
    ),
    anonymityThreshold: v.number(),
    withheld: v.pipe(v.array(WithheldOut), v.description('Campaign × audience groups met on this page and left out for anonymity.')),
  });

const listBody = <T>(page: ListPage<T>) => ({
  data: page.items,
  next_cursor: page.nextCursor,
  anonymityThreshold: page.anonymityThreshold,
  withheld: page.withheld,
});

const ListQuery = v.strictObject({ ...PageQuery.entries, ...ResponseFilterEntries }, 'is not a known parameter');

const filterDescription =
  'Filters: `proId`, `campaignId`, `audience`, and `since` (inclusive) / `until` (exclusive) on when the response was first submitted, as ISO 8601 dates or times. Oldest first. ' +
  'Anonymous rounds give no respondent, outlet, survey or invitation id. A campaign × audience group with 1 to k − 1 anonymous responses (k = the agency\'s `anonymityThreshold`) is left out whole and listed in `withheld` with its n. ' +
  'A pro or campaign of another agency is a 404; an unknown or malformed parameter a 400 naming it.';

export const responseRoutes = ({ db }: Deps) =>
  new Hono<ApiEnv>()
    .get(
      '/responses',
      doc({
        summary: 'List responses',
        description: `Answers, audience, campaign and time of each response. ${filterDescription}`,
        tags,
        role: 'read',
        ok: [200, listOf(ResponseOut), 'A page of responses, and the groups left out'],
        problems: ['validation', 'not-found'],
      }),
      validate('query', ListQuery),
      async (c) => {
        const { limit, cursor, ...filter } = c.req.valid('query');
        return c.json(listBody(await listResponses(db, c.get('principal').agencyId, filter, { limit, cursor })));
      },
    )
    .get(
      '/responses.csv',
      doc({
        summary: 'Export responses as CSV',
        description: `Every response the filters select, streamed as RFC 4180 CSV (UTF-8, CRLF, a header row). Columns, in this order (new ones are only appended): ${RESPONSE_CSV_COLUMNS.map((c) => `\`${c}\``).join(', ')}. \`record\` is \`response\`, or \`withheld\` for a group left out (those rows come last, with the campaign, audience and \`withheld_n\` only). Cells starting with =, +, -, @ are prefixed with \`'\`. ${filterDescription}`,
        tags,
        role: 'read',
        ok: [200, null, 'The CSV file'],
        problems: ['validation', 'not-found'],
      }),
      describeRoute({ responses: { 200: { description: 'The CSV file', content: { 'text/csv': { schema: { type: 'string' } } } } } }),
      validate('query', ResponseFilterSchema),
      async (c) => {
        const records = await responsesCsv(db, c.get('principal').agencyId, c.req.valid('query'));
        return c.body(toCsvStream(records), 200, {
          'Content-Type': 'text/csv; charset=utf-8; header=present',
          'Content-Disposition': 'attachment; filename="responses.csv"',
          'Cache-Control': 'no-store',
        });
      },
    )
    .get(
      '/testimonials',
      doc({
        summary: 'List testimonials',
        description: `Comments of promoters (recommend 9–10) who agreed that the comment may be quoted, with campaign, audience and time; the name only from named rounds. The same filters and anonymity rule as the responses. ${filterDescription}`,
        tags,
        role: 'read',
        ok: [200, listOf(TestimonialOut), 'A page of testimonials, and the groups left out'],
        problems: ['validation', 'not-found'],
      }),
      validate('query', ListQuery),
      async (c) => {
        const { limit, cursor, ...filter } = c.req.valid('query');
        return c.json(listBody(await listTestimonials(db, c.get('principal').agencyId, filter, { limit, cursor })));
      },
    );

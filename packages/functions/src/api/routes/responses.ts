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
  type ListPage,
} from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { validate } from '../validate';
import { doc, noStore } from '../route-docs';
import { named, PageQuery } from '../schemas';
import { responseListExample, testimonialListExample } from '../examples';
import { csvAnswer } from './responses-csv';

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

const Release = {
  batchId: v.pipe(v.string(), v.description('The release batch the answer belongs to.')),
  releasedAt: v.pipe(Timestamp, v.description('When the batch was released (an anonymous round\'s close, or when a named answer was given).')),
  campaignId: v.pipe(v.nullable(v.string()), v.description('The batch\'s campaign; null for a pooled batch of answers from several campaigns.')),
  campaignName: v.nullable(v.string()),
  period: v.pipe(v.string(), v.description('The month (`YYYY-MM`) whose scores the batch counts in.')),
};
/** A nullable field that only named rounds fill. */
const namedOnly = <T extends v.GenericSchema>(schema: T, description: string) =>
  v.pipe(v.nullable(schema), v.description(`${description} Named rounds only; null on anonymous rounds.`));

const ResponseOut = named('Response', v.object({
  ...Release,
  surveyId: namedOnly(v.string(), 'The round.'),
  invitationId: namedOnly(v.string(), 'The invitation.'),
  proId: v.string(),
  audience: v.picklist(AUDIENCES),
  attribution: v.picklist(['anonymous', 'named']),
  respondent: namedOnly(v.object({ name: v.nullable(v.string()), email: v.string(), outlet: v.nullable(v.string()) }), 'Who answered.'),
  instrumentVersion: v.number(),
  answers: AnswersOut,
  firstSubmittedAt: namedOnly(Timestamp, 'When first given.'),
  submittedAt: namedOnly(Timestamp, 'The latest revision.'),
  revision: namedOnly(v.number(), 'How many times it was given.'),
}));

const TestimonialOut = named('Testimonial', v.object({
  ...Release,
  quote: v.string(),
  recommend: v.number(),
  proId: v.string(),
  audience: v.picklist(AUDIENCES),
  attribution: v.picklist(['anonymous', 'named']),
  respondent: v.pipe(
    v.nullable(v.object({ name: v.nullable(v.string()), outlet: v.nullable(v.string()) })),
    v.description('Named rounds only. The consent was to quote the comment without the name: ask before printing it.'),
  ),
}));

const listOf = <T extends v.GenericSchema>(name: string, item: T) =>
  named(name, v.object({
    data: v.array(item),
    nextCursor: v.pipe(
      v.nullable(v.string()),
      v.description('Pass as `cursor` for the next page; null on the last. A filtered page may hold fewer items than `limit` (even none).'),
    ),
    anonymityThreshold: v.number(),
  }));

const listBody = <T>(page: ListPage<T>) => ({
  data: page.items,
  nextCursor: page.nextCursor,
  anonymityThreshold: page.anonymityThreshold,
});

const ListQuery = v.strictObject({ ...PageQuery.entries, ...ResponseFilterEntries }, 'is not a known parameter');

const filterDescription =
  'Only released answers are listed: an anonymous round\'s answers once it closes, in batches of at least k (the agency\'s `anonymityThreshold`) per campaign and audience, smaller groups pooled per pro and audience until they reach k; a named round\'s answers when given. ' +
  'Filters: `proId`, `campaignId` (the batch\'s), `audience`, and `since` (inclusive) / `until` (exclusive) on the release time, as ISO 8601 dates or times. Oldest release first; within a batch, in random order. ' +
  'Anonymous answers carry only their batch\'s attributes: no respondent, outlet, ids, or time of answer. ' +
  'A pro or campaign of another agency is a 404; an unknown or malformed parameter a 400 naming it.';

/**
 * The CSV export, documented: served by the API; on AWS also by the streaming export function
 * (`export-app.ts`, the same answer and checks without the documentation), since the API's Lambda
 * buffers its responses.
 */
export const responsesCsvRoute = ({ db }: Pick<Deps, 'db'>) =>
  new Hono<ApiEnv>().get(
    '/responses.csv',
    doc({
      summary: 'Export responses as CSV',
      description: `Every response the filters select, streamed as RFC 4180 CSV (UTF-8, CRLF, a header row). Columns, in this order (new ones are only appended): ${RESPONSE_CSV_COLUMNS.map((c) => `\`${c}\``).join(', ')}. \`record\` (always \`response\`) and \`withheld_n\` (always empty) are kept for column stability. Cells starting with =, +, -, @ are prefixed with \`'\`. ${filterDescription} ` +
        'On AWS, request it from the export URL (the deployment\'s `exportUrl` output, a Lambda Function URL: `<exportUrl>/v1/responses.csv`, same API key and parameters), which streams the file; through the API\'s own address the response is buffered and Lambda caps it at 6 MB.',
      tags,
      role: 'read',
      ok: [200, null, 'The CSV file'],
      problems: ['validation', 'not-found'],
    }),
    describeRoute({ responses: { 200: { description: 'The CSV file', headers: noStore, content: { 'text/csv': { schema: { type: 'string' }, example: `${RESPONSE_CSV_COLUMNS.join(',')}\r\n` } } } } }),
    validate('query', ResponseFilterSchema),
    (c) => csvAnswer(db, c, c.req.valid('query')),
  );

export const responseRoutes = ({ db }: Deps) =>
  new Hono<ApiEnv>()
    .get(
      '/responses',
      doc({
        summary: 'List responses',
        description: `The answers of each released response, with its batch. ${filterDescription}`,
        tags,
        role: 'read',
        ok: [200, listOf('ResponsePage', ResponseOut), 'A page of released responses'],
        example: responseListExample,
        problems: ['not-found'],
      }),
      validate('query', ListQuery),
      async (c) => {
        const { limit, cursor, ...filter } = c.req.valid('query');
        return c.json(listBody(await listResponses(db, c.get('principal').agencyId, filter, { limit, cursor })));
      },
    )
    .route('/', responsesCsvRoute({ db }))
    .get(
      '/testimonials',
      doc({
        summary: 'List testimonials',
        description: `Comments of promoters (recommend 9–10) who agreed that the comment may be quoted, with their batch; the name only from named rounds. ${filterDescription}`,
        tags,
        role: 'read',
        ok: [200, listOf('TestimonialPage', TestimonialOut), 'A page of testimonials'],
        example: testimonialListExample,
        problems: ['not-found'],
      }),
      validate('query', ListQuery),
      async (c) => {
        const { limit, cursor, ...filter } = c.req.valid('query');
        return c.json(listBody(await listTestimonials(db, c.get('principal').agencyId, filter, { limit, cursor })));
      },
    );

import { Hono } from 'hono';
import * as v from 'valibot';
import { agencyScores, AUDIENCES, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, campaignScores, proScores, SCORED_ITEMS, ScoresQuerySchema } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { CampaignParam, named, PageQuery, ProParam } from '../schemas';
import { agencyScoresExample, campaignScoresExample, proScoresExample } from '../examples';

const tags = ['Scores'];

const IntervalOut = v.nullable(v.tuple([v.number(), v.number()]));
const ItemOut = named(
  'ItemScore',
  v.pipe(
    v.object({
      n: v.number(),
      mean: v.nullable(v.number()),
      ci: v.pipe(IntervalOut, v.description('95% t-interval of the mean; null below n = 2.')),
      percentResponsive: v.optional(
        named(
          'PercentResponsive',
          v.pipe(
            v.object({ responsive: v.number(), percent: v.nullable(v.number()), ci: v.pipe(IntervalOut, v.description('Wilson 95% interval, in percent.')) }),
            v.description('Responsiveness only: the share of answers that are 4 or 5, in percent (0–100).'),
          ),
        ),
      ),
      nps: v.optional(
        named(
          'Nps',
          v.pipe(
            v.object({
              promoters: v.number(),
              passives: v.number(),
              detractors: v.number(),
              score: v.nullable(v.number()),
              ci: v.pipe(IntervalOut, v.description('Adjusted-Wald 95% interval, −100 to 100.')),
            }),
            v.description('Recommend only: the Net Promoter Score, in points from −100 to 100.'),
          ),
        ),
      ),
    }),
    v.description('One scored item: its n, mean on the item\'s scale, and interval.'),
  ),
);
const GroupOut = named(
  'ScoreGroup',
  v.object({
    n: v.pipe(v.number(), v.description('Released answers.')),
    items: named('ItemScores', v.object(Object.fromEntries(SCORED_ITEMS.map((i) => [i, v.optional(ItemOut)])))),
  }),
);
const AudiencesOut = named('AudienceScores', v.object(Object.fromEntries(AUDIENCES.map((a) => [a, v.optional(GroupOut)]))));
const RateFields = {
  delivered: v.pipe(v.number(), v.description('Invitations delivered (bounces excluded).')),
  responses: v.pipe(v.number(), v.description('Released answers (the total `n`).')),
  responseRatePercent: v.pipe(v.nullable(v.number()), v.description('`responses` over `delivered`, in percent (a pooled batch counts in its release month, so a month can exceed 100).')),
};
const PeriodOut = named(
  'PeriodScores',
  v.object({
    period: v.pipe(v.string(), v.description('`YYYY-MM`, `YYYY-Qn` or `total`; months in the agency time zone, by when the round began.')),
    ...RateFields,
    total: GroupOut,
    audiences: AudiencesOut,
  }),
);
const RangeFields = {
  from: v.string(),
  to: v.string(),
  granularity: v.picklist(['month', 'quarter', 'total']),
  audience: v.nullable(v.picklist(AUDIENCES)),
  anonymityThreshold: v.number(),
  periods: v.array(PeriodOut),
};

const queryDescription =
  '`from`/`to` are months (`YYYY-MM`, default the last 12), `granularity` month, quarter or total, `audience` optional. Every figure has its `n`. ' +
  'Scores count released answers only: an anonymous round\'s answers are released when it closes, in batches of at least k (`anonymityThreshold`) per campaign and audience (smaller groups wait in a pool per pro and audience until it holds k, then count in the month of release); a named answer counts when given. ' +
  'Every figure is a sum of whole batches, so no filter, period or before-and-after read isolates fewer than k anonymous answers.';

export const proScoresRoute = ({ db, now }: Deps) =>
  new Hono<ApiEnv>().get(
    '/:proId/scores',
    doc({ summary: "A pro's scores", description: queryDescription, tags, role: 'read', ok: [200, named('ProScores', v.object({ proId: v.string(), ...RangeFields })), 'Scores per period and audience'], example: proScoresExample, problems: ['not-found'] }),
    validate('param', ProParam),
    validate('query', ScoresQuerySchema),
    async (c) => c.json(await proScores(db, c.get('principal').agencyId, c.req.valid('param').proId, c.req.valid('query'), now())),
  );

export const campaignScoresRoute = ({ db }: Deps) =>
  new Hono<ApiEnv>().get(
    '/:campaignId/scores',
    doc({
      summary: "A campaign's scores",
      description:
        'Per audience and in total, over the batches released from all of the campaign\'s rounds (pooled batches belong to no campaign). It takes no query parameters: a campaign is scored whole, so `from`, `to` or `granularity` is a 400 rather than silently ignored.',
      tags,
      role: 'read',
      ok: [200, named('CampaignScores', v.object({ campaignId: v.string(), proId: v.string(), anonymityThreshold: v.number(), ...RateFields, total: GroupOut, audiences: AudiencesOut })), 'Scores per audience'],
      example: campaignScoresExample,
      problems: ['not-found'],
    }),
    validate('param', CampaignParam),
    validate('query', v.strictObject({}, 'is not a known parameter: a campaign is scored whole')),
    async (c) => c.json(await campaignScores(db, c.get('principal').agencyId, c.req.valid('param').campaignId)),
  );

export const agencyScoresRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>().get(
    '/',
    doc({
      summary: "The agency's scores",
      description:
        `${queryDescription} \`pros\` gives a page of pros (\`limit\`, default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}; \`cursor\` from \`nextCursor\`), each with its scores over the whole range, ` +
        'in the order the pros were created. A pro is listed once it has a delivered invitation or a released answer in the range (and audience); `periods` are the agency\'s, the same on every page.',
      tags,
      role: 'read',
      ok: [
        200,
        named('AgencyScores', v.object({
          ...RangeFields,
          pros: v.array(named('ProScoreGroup', v.intersect([v.object({ proId: v.string(), name: v.string() }), GroupOut]))),
          nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as `cursor` for the next page of pros (with the same range and audience); null on the last.')),
        })),
        'Scores per period and audience, and a page of pros',
      ],
      example: agencyScoresExample,
    }),
    validate('query', v.object({ ...ScoresQuerySchema.entries, ...PageQuery.entries })),
    async (c) => {
      const { limit, cursor, ...query } = c.req.valid('query');
      return c.json(await agencyScores(db, c.get('principal').agencyId, query, { limit, cursor }, now()));
    },
  );

import { Hono } from 'hono';
import * as v from 'valibot';
import { getAgency, getPro, MonthSchema, monthPeriod, periodOf, previousPeriod, proSummaryFor } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, ProParam } from '../schemas';
import { summaryPreviewExample } from '../examples';

const SummaryQuery = v.object({
  period: v.optional(v.pipe(MonthSchema, v.description('The month to summarise (`YYYY-MM`, in the agency time zone); default the last full month.'))),
});

const SummaryPreviewOut = named('SummaryPreview', v.object({
  period: v.object({ key: v.string(), label: v.string(), from: v.string(), to: v.string() }),
  quiet: v.pipe(v.boolean(), v.description('Nothing new in the period: the job would send no summary.')),
  summary: v.pipe(v.nullable(v.record(v.string(), v.unknown())), v.description('Everything the summary says, as data (figures with n, withheld below k).')),
  subject: v.nullable(v.string()),
  html: v.nullable(v.string()),
  text: v.nullable(v.string()),
}));

/** `GET /v1/pros/{proId}/summary`: the summary of a month as data and as the email, sending nothing. */
export const summaryPreviewRoute = ({ db, now, config }: Deps) =>
  new Hono<ApiEnv>().get(
    '/:proId/summary',
    doc({
      summary: "Preview a pro's summary",
      description: 'The improvement summary of a month (`period`, default the last full month), as JSON and as the rendered email. Sends nothing.',
      tags: ['Pros'],
      role: 'read',
      ok: [200, SummaryPreviewOut, 'The summary, or `quiet: true` when there is nothing new'],
      example: summaryPreviewExample,
      problems: ['not-found'],
    }),
    validate('param', ProParam),
    validate('query', SummaryQuery),
    async (c) => {
      const { agencyId } = c.get('principal');
      const [agency, pro] = await Promise.all([getAgency(db, agencyId), getPro(db, agencyId, c.req.valid('param').proId)]);
      const month = c.req.valid('query').period;
      const period = month
        ? monthPeriod(month, agency.timezone)
        : previousPeriod(monthPeriod(periodOf(now(), agency.timezone), agency.timezone), agency.timezone);
      const built = await proSummaryFor({ db, publicUrl: config.publicUrl }, agency, pro, period);
      return c.json({
        period,
        quiet: built === null,
        summary: built?.summary ?? null,
        subject: built?.rendered.subject ?? null,
        html: built?.rendered.html ?? null,
        text: built?.rendered.text ?? null,
      });
    },
  );

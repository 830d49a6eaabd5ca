import * as v from 'valibot';
import {
  AUDIENCES,
  DEFAULT_PAGE_SIZE,
  INVITATION_STATUSES,
  MAX_PAGE_SIZE,
  maxChars,
  ROLES,
  SettingsSchema,
  SKIP_REASONS,
  type InvitationStatus,
  type Page,
  type SkipReason,
} from '@rapport/core';

/**
 * Names a schema: the OpenAPI document holds it once, as `components.schemas[name]`, and refers to
 * it with `$ref` wherever it is used (standard-openapi reads the `ref` metadata), so generated
 * clients get named types. A description belongs inside the named schema: one beside a `$ref` is dropped.
 */
export const named = <T extends v.GenericSchema>(name: string, schema: T) => v.pipe(schema, v.metadata({ ref: name }));

/** The name `named` gave a schema, if any. */
const nameOf = (schema: v.GenericSchema): string | undefined => {
  const pipe = (schema as { pipe?: { type?: string; metadata?: { ref?: unknown } }[] }).pipe ?? [];
  const ref = pipe.findLast((item) => item.type === 'metadata' && typeof item.metadata?.ref === 'string')?.metadata?.ref;
  return ref as string | undefined;
};

/** Response shapes, for the OpenAPI document. Inputs come from the core's own schemas. */
export const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.metadata({ examples: ['2026-11-24T09:00:00.000Z'] }));

export const AgencySettingsOut = named('AgencySettings', v.object({
  agencyId: v.string(),
  name: v.string(),
  ...SettingsSchema.entries,
  createdAt: Timestamp,
  updatedAt: Timestamp,
}));

const ApiKeyFields = {
  keyId: v.string(),
  role: v.picklist(ROLES),
  name: v.string(),
  hint: v.pipe(v.string(), v.description('The last four characters of the key.')),
  createdAt: Timestamp,
  revokedAt: v.nullable(Timestamp),
};
export const ApiKeyOut = named('ApiKey', v.object(ApiKeyFields));

export const ApiKeyCreatedOut = named('ApiKeyCreated', v.object({
  ...ApiKeyFields,
  secret: v.pipe(
    v.nullable(v.string()),
    v.description('The key itself. Shown only in the first answer; store it now. `null` in an idempotent replay.'),
  ),
  secretWithheld: v.pipe(v.optional(v.string()), v.description('Present in an idempotent replay only: says why `secret` is null.')),
}));

export const ProOut = named('Pro', v.object({
  proId: v.string(),
  name: v.string(),
  email: v.string(),
  commitment: v.optional(
    v.pipe(v.object({ text: v.string(), since: Timestamp }), v.description('The latest commitment (POST /v1/pros/{proId}/commitments), if any.')),
  ),
  deactivatedAt: v.optional(
    v.pipe(
      Timestamp,
      v.description('Present while an admin has the pro deactivated (in the console): no sign-in, no new rounds (a 409), no summaries or early warnings; rounds already sent run to their close and scores stay.'),
    ),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}));

export const CampaignOut = named('Campaign', v.object({
  campaignId: v.string(),
  proId: v.string(),
  name: v.string(),
  startsOn: v.nullable(v.string()),
  endsOn: v.nullable(v.string()),
  tags: v.array(v.string()),
  createdAt: Timestamp,
}));

export const ProblemOut = named(
  'Problem',
  v.pipe(
    v.object({
      type: v.pipe(v.string(), v.description('Stable: `urn:rapport:problem:<name>`, one of the problem types listed in the API description.')),
      title: v.string(),
      status: v.number(),
      detail: v.optional(v.string()),
      errors: v.optional(
        v.pipe(
          v.array(named('FieldIssue', v.object({ field: v.pipe(v.string(), v.description('The parameter, header or body field (dotted path; `(body)` for the body itself).')), message: v.string() }))),
          v.description('Validation problems only: each bad field.'),
        ),
      ),
    }),
    v.description('An RFC 9457 problem (`application/problem+json`).'),
  ),
);

/**
 * A page of a list: `{ data, nextCursor }`. Named `<Item>Page` when the item schema is named
 * (or as `name` says).
 */
export const pageOf = <T extends v.GenericSchema>(item: T, name: string | undefined = nameOf(item) && `${nameOf(item)}Page`) => {
  const page = v.object({
    data: v.array(item),
    nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as `cursor` for the next page; null on the last.')),
  });
  return name ? named(name, page) : page;
};

export const PageQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`),
      v.transform(Number),
      v.minValue(1, `must be from 1 to ${MAX_PAGE_SIZE}`),
      v.maxValue(MAX_PAGE_SIZE, `must be from 1 to ${MAX_PAGE_SIZE}`),
      v.description(`Items per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`),
    ),
    String(DEFAULT_PAGE_SIZE),
  ),
  cursor: v.optional(
    v.pipe(v.string(), maxChars(2048, 'is not a cursor returned by this list'), v.description('Where to go on: the `nextCursor` of the previous page of the same list (with the same filters). Omit for the first page.')),
  ),
});

/** Path parameters, described. */
export const ProParam = v.object({ proId: v.pipe(v.string(), v.description('The pro\'s id (`pro_…`), as `POST /v1/pros` answered it.')) });
export const CampaignParam = v.object({ campaignId: v.pipe(v.string(), v.description('The campaign\'s id (`cmp_…`), as `POST /v1/campaigns` answered it.')) });
export const SurveyParam = v.object({ surveyId: v.pipe(v.string(), v.description('The survey round\'s id, as `POST /v1/campaigns/{campaignId}/surveys` answered it.')) });

/** The wire form of a page: `{ data, nextCursor }`. */
export const pageBody = <T, U>(page: Page<T>, present: (item: T) => U) => ({
  data: page.items.map(present),
  nextCursor: page.nextCursor,
});

const counts = v.object(Object.fromEntries(INVITATION_STATUSES.map((s) => [s, v.number()])) as Record<InvitationStatus, v.NumberSchema<undefined>>);

const RoundFields = {
  surveyId: v.string(),
  campaignId: v.string(),
  proId: v.string(),
  attribution: v.picklist(['anonymous', 'named']),
  status: v.picklist(['open', 'cancelled', 'closed']),
  counts: named(
    'InvitationCounts',
    v.pipe(
      counts,
      v.description('Invitations per status. On anonymous rounds an answered invitation stays counted under the status it had when answered and an expired one under `sent` (so the counts move with delivery only), and `responded` says how many answered in all.'),
    ),
  ),
  responseRatePercent: v.pipe(v.nullable(v.number()), v.description('Responses over delivered invitations, in percent (0–100); null before any delivery.')),
  createdAt: Timestamp,
  closesAt: Timestamp,
};
export const RoundOut = named('Survey', v.object(RoundFields));

/** How many of a round's skipped recipients its 202 lists; `GET /v1/surveys/{id}/skipped` has them all. */
export const SKIPPED_SHOWN = 100;

export const SkippedOut = named('SkippedRecipient', v.object({
  index: v.pipe(v.number(), v.description('Its position in the request\'s `recipients`, from 0.')),
  email: v.string(),
  reason: v.picklist(SKIP_REASONS),
}));

export const RoundCreatedOut = named('SurveyCreated', v.object({
  ...RoundFields,
  accepted: v.number(),
  skippedTotal: v.pipe(v.number(), v.description('How many recipients were skipped.')),
  skippedCounts: named(
    'SkippedCounts',
    v.pipe(
      v.object(Object.fromEntries(SKIP_REASONS.map((r) => [r, v.number()])) as Record<SkipReason, v.NumberSchema<undefined>>),
      v.description('Skipped recipients per reason.'),
    ),
  ),
  skipped: v.pipe(
    v.array(SkippedOut),
    v.description(`The first ${SKIPPED_SHOWN} skipped recipients, in request order; when \`skippedTotal\` is more, \`GET /v1/surveys/{surveyId}/skipped\` pages them all.`),
  ),
}));

export const InvitationOut = named('Invitation', v.object({
  invitationId: v.string(),
  email: v.string(),
  name: v.nullable(v.string()),
  audience: v.picklist(AUDIENCES),
  outlet: v.nullable(v.string()),
  status: v.pipe(
    v.picklist(INVITATION_STATUSES),
    v.description('On anonymous rounds delivery only: `pending`, `sending`, `sent` (answered or not), `bounced`, `failed` or `skipped`.'),
  ),
  createdAt: Timestamp,
  sentAt: v.nullable(Timestamp),
  respondedAt: v.pipe(v.nullable(Timestamp), v.description('Named rounds only: on anonymous rounds it would tell who gave which answer.')),
  remindersSent: v.pipe(v.nullable(v.number()), v.description('Named rounds only (who got a reminder tells who had not answered yet).')),
  nextReminderAt: v.pipe(v.nullable(Timestamp), v.description('Named rounds only: when the next reminder goes out unless they answer first; null when none will.')),
  failureReason: v.pipe(
    v.nullable(v.string()),
    v.description('Why a `failed` email was not delivered: the code of SES\'s permanent refusal (e.g. `MessageRejected`); null otherwise. Throttling and outages never fail an email: it is queued again (see `retries`).'),
  ),
  retries: v.pipe(v.number(), v.description('Times SES did not take the first email (throttled, unreachable) and it was queued again for later.')),
}));

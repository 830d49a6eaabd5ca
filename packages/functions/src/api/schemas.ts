import * as v from 'valibot';
import { ROLES, SettingsSchema, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type Page } from '@rapport/core';

/** Response shapes, for the OpenAPI document. Inputs come from the core's own schemas. */
const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.metadata({ examples: ['2026-11-24T09:00:00.000Z'] }));

export const AgencySettingsOut = v.object({
  agencyId: v.string(),
  name: v.string(),
  ...SettingsSchema.entries,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ApiKeyOut = v.object({
  keyId: v.string(),
  role: v.picklist(ROLES),
  name: v.string(),
  hint: v.pipe(v.string(), v.description('The last four characters of the key.')),
  createdAt: Timestamp,
  revokedAt: v.nullable(Timestamp),
});

export const ApiKeyCreatedOut = v.object({
  ...ApiKeyOut.entries,
  secret: v.pipe(v.string(), v.description('The key itself. Shown only in this response; store it now.')),
});

export const ProOut = v.object({
  proId: v.string(),
  name: v.string(),
  email: v.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const CampaignOut = v.object({
  campaignId: v.string(),
  proId: v.string(),
  name: v.string(),
  startsOn: v.nullable(v.string()),
  endsOn: v.nullable(v.string()),
  tags: v.array(v.string()),
  createdAt: Timestamp,
});

export const ProblemOut = v.object({
  type: v.string(),
  title: v.string(),
  status: v.number(),
  detail: v.optional(v.string()),
  errors: v.optional(v.array(v.object({ field: v.string(), message: v.string() }))),
});

export const pageOf = <T extends v.GenericSchema>(item: T) =>
  v.object({
    data: v.array(item),
    next_cursor: v.pipe(v.nullable(v.string()), v.description('Pass as `cursor` for the next page; null on the last.')),
  });

export const PageQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`),
      v.transform(Number),
      v.minValue(1, `must be from 1 to ${MAX_PAGE_SIZE}`),
      v.maxValue(MAX_PAGE_SIZE, `must be from 1 to ${MAX_PAGE_SIZE}`),
    ),
    String(DEFAULT_PAGE_SIZE),
  ),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(2048, 'is not a cursor returned by this list'))),
});

/** The wire form of a page: `{ data, next_cursor }`. */
export const pageBody = <T, U>(page: Page<T>, present: (item: T) => U) => ({
  data: page.items.map(present),
  next_cursor: page.nextCursor,
});

import * as v from 'valibot';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { failedConditions } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { NotFoundError, ValidationError } from '../shared/errors';
import { hashedId, isId, newId } from '../shared/ids';
import { iso } from '../shared/time';
import { getPro } from '../pro/pro';
import { parseInput } from '../shared/validate';
import { DateSchema, maxChars, minChars, NameSchema } from '../shared/schemas';
import { getCampaign } from './read';

export { getCampaign };

const TagSchema = v.pipe(v.string(), maxChars(50), v.trim(), minChars(1, 'must not be empty'));

export const CampaignInputSchema = v.pipe(
  v.object({
    proId: v.pipe(v.string(), v.description('The pro who ran the campaign.')),
    name: NameSchema,
    startsOn: v.optional(DateSchema),
    endsOn: v.optional(DateSchema),
    tags: v.optional(v.pipe(v.array(TagSchema), v.maxLength(20, 'allows at most 20 tags')), []),
  }),
  v.forward(
    v.check((c) => !c.startsOn || !c.endsOn || c.endsOn >= c.startsOn, 'must not be before startsOn'),
    ['endsOn'],
  ),
);

export interface Campaign {
  campaignId: string;
  agencyId: string;
  proId: string;
  name: string;
  startsOn: string | null;
  endsOn: string | null;
  tags: string[];
  createdAt: string;
}

const unknownPro = () => ValidationError.field('proId', 'is not a pro of this agency');

/**
 * Creates a campaign. With a `key` (a form's, say), its id follows from the key, so sending the same
 * form again finds the campaign the first one made instead of making a second.
 */
export async function createCampaign(db: Db, agencyId: string, input: unknown, now: Date, { key }: { key?: string } = {}): Promise<Campaign> {
  const data = parseInput(CampaignInputSchema, input);
  if (!isId('pro', data.proId)) throw unknownPro();
  const campaign: Campaign = {
    campaignId: key ? hashedId('cmp', agencyId, key) : newId('cmp'),
    agencyId,
    proId: data.proId,
    name: data.name,
    startsOn: data.startsOn ?? null,
    endsOn: data.endsOn ?? null,
    tags: [...new Set(data.tags)],
    createdAt: iso(now),
  };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          // The pro must exist at the moment the campaign is written, not just when it was read.
          { ConditionCheck: { TableName: db.table, Key: keys.pro(agencyId, data.proId), ConditionExpression: 'attribute_exists(PK)' } },
          {
            Put: {
              TableName: db.table,
              Item: {
                ...keys.campaign(agencyId, campaign.campaignId),
                ...keys.campaignByPro(agencyId, campaign.proId, campaign.campaignId),
                type: 'campaign',
                ...campaign,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
        ],
      }),
    );
  } catch (error) {
    const failed = failedConditions(error);
    if (failed?.includes(0)) throw unknownPro();
    if (key && failed?.includes(1)) return getCampaign(db, agencyId, campaign.campaignId);
    throw error;
  }
  return campaign;
}

/**
 * Lists the agency's campaigns, or one pro's through GSI1; oldest first (ids are time-ordered).
 * A filter by a pro the agency does not have is a NotFoundError, as on every listing.
 */
export async function listCampaigns(db: Db, agencyId: string, filter: { proId?: string | undefined }, page: PageRequest) {
  if (filter.proId !== undefined) await getPro(db, agencyId, filter.proId);
  const toCampaign = (item: Record<string, unknown>) => withoutKeys<Campaign>(item);
  const where =
    filter.proId === undefined
      ? { partition: keys.agency(agencyId).PK, prefix: 'CMP#' }
      : { partition: keys.campaignByPro(agencyId, filter.proId, '').GSI1PK, prefix: 'CMP#', index: 'GSI1' as const };
  return queryPrefix(db, where, page, toCampaign);
}

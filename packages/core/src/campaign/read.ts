import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { NotFoundError } from '../shared/errors';
import { isId } from '../shared/ids';
import type { Campaign } from './campaign';

/* Reading a campaign, apart from ./campaign.ts and its schemas (see ../agency/read.ts). */

export async function getCampaign(db: Db, agencyId: string, campaignId: string): Promise<Campaign> {
  if (!isId('cmp', campaignId)) throw new NotFoundError('campaign');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.campaign(agencyId, campaignId) }));
  if (!Item) throw new NotFoundError('campaign');
  return withoutKeys<Campaign>(Item);
}

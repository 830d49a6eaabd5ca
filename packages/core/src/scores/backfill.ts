import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { isConditionFailed } from '../db/conditions';
import { AGENCIES_PARTITION, keys } from '../db/keys';
import { queryAll } from '../db/page';
import { listAllPros } from '../pro/pro';

/**
 * Puts the pro counters written before the agency's scores index existed into it (`admin
 * index-scores`, run once after deploying). It only sets their index keys, which are fixed by the
 * item's own key, so it is safe beside live releases and safe to run again: an item indexed already
 * is left alone. Returns how many it indexed.
 */
export async function indexProCounters(db: Db, agencyIds?: string[]): Promise<{ agencies: number; indexed: number }> {
  const done = { agencies: 0, indexed: 0 };
  for (const agencyId of agencyIds ?? (await allAgencyIds(db))) {
    done.agencies++;
    for (const { proId } of await listAllPros(db, agencyId)) {
      for await (const items of queryAll(db, { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.proCounter(agencyId, proId, '', '').PK } })) {
        for (const item of items) {
          const [period, audience] = (item.SK as string).split('#') as [string, string];
          const index = keys.proCounterByAgency(agencyId, proId, period, audience);
          try {
            await db.doc.send(
              new UpdateCommand({
                TableName: db.table,
                Key: { PK: item.PK, SK: item.SK },
                UpdateExpression: 'SET GSI2PK = :pk, GSI2SK = :sk',
                ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(GSI2PK)',
                ExpressionAttributeValues: { ':pk': index.GSI2PK, ':sk': index.GSI2SK },
              }),
            );
            done.indexed++;
          } catch (error) {
            if (!isConditionFailed(error)) throw error;
          }
        }
      }
    }
  }
  return done;
}

/** Every agency's id (the directory partition), for one-off jobs over all of them. */
export async function allAgencyIds(db: Db): Promise<string[]> {
  const ids: string[] = [];
  for await (const items of queryAll(db, { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': AGENCIES_PARTITION } })) {
    ids.push(...items.map((item) => item.GSI1SK as string));
  }
  return ids;
}

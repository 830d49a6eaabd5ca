import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { batchPut } from '../db/batch';
import { keys } from '../db/keys';
import { queryAll } from '../db/page';
import { allAgencyIds } from '../scores/backfill';
import { addressHash } from './address';
import { enforceSuppression } from './suppression';

/**
 * For data written before suppressions were enforced where they are written (`admin
 * index-suppressions`, once after deploying it): marks every address an agency surveyed
 * (`keys.surveyedBy`, which a global suppression follows to the agency), then enforces each
 * suppression an agency lists, so an invitation still pending from before is skipped as it would
 * have been by the send's own check. Both steps change nothing the second time: safe to run again.
 */
export async function indexSuppressions(db: Db, now: Date, agencyIds?: string[]): Promise<{ marked: number; enforced: number }> {
  const only = agencyIds ? new Set(agencyIds) : undefined;
  let marked = 0;
  // Recipient states are keyed by agency and address alone (`AG#<a>#RCP#<h>`): a scan finds those not marked yet.
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new ScanCommand({
        TableName: db.table,
        FilterExpression: 'SK = :rcp AND attribute_not_exists(surveyedMarked)',
        ExpressionAttributeValues: { ':rcp': 'RCP' },
        ProjectionExpression: 'PK',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const states = (page.Items ?? []).map((item) => /^AG#(.+)#RCP#([0-9a-f]+)$/.exec(item.PK as string)).filter((m): m is RegExpExecArray => m !== null && (!only || only.has(m[1]!)));
    await batchPut(db, states.map(([, agencyId, hash]) => ({ ...keys.surveyedBy(hash!, agencyId!), type: 'surveyedBy' })));
    for (const [, agencyId, hash] of states) {
      await db.doc.send(new UpdateCommand({ TableName: db.table, Key: keys.recipientState(agencyId!, hash!), UpdateExpression: 'SET surveyedMarked = :true', ExpressionAttributeValues: { ':true': true } }));
    }
    marked += states.length;
    start = page.LastEvaluatedKey;
  } while (start);

  let enforced = 0;
  for (const agencyId of agencyIds ?? (await allAgencyIds(db))) {
    const listed = queryAll(db, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sup)',
      ExpressionAttributeValues: { ':pk': `AG#${agencyId}`, ':sup': 'SUP#' },
    });
    for await (const page of listed) {
      for (const listing of page) {
        await enforceSuppression(db, addressHash(listing.email as string), listing.scope === 'global' ? 'global' : agencyId, now);
        enforced++;
      }
    }
  }
  return { marked, enforced };
}

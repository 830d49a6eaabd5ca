import type { Db } from '../db/client';
import { queryAll } from '../db/page';
import { allAgencyIds } from '../scores/backfill';
import { addressHash } from './address';
import { enforceSuppression } from './suppression';

/**
 * For data written before suppressions were enforced where they are written (`admin
 * index-suppressions`, once after deploying it): enforces each suppression an agency lists, so an
 * invitation still pending from before is skipped as it would have been by the send's own check.
 * (A global suppression finds the agencies that surveyed the address by their recipient states,
 * which are keyed beside it: nothing to mark.) It changes nothing the second time: safe to run again.
 */
export async function indexSuppressions(db: Db, now: Date, agencyIds?: string[]): Promise<{ enforced: number }> {
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
  return { enforced };
}

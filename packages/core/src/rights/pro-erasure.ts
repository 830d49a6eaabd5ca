import { END_LOOKS } from '../sending/lease';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { failedConditions } from '../db/conditions';
import { mapConcurrent } from '../db/batch';
import { queryAll, roundInvitationsQuery } from '../db/page';
import { deleteLogin } from '../access/login';
import { deactivatePro, getPro, type Pro } from '../pro/pro';
import { iso } from '../shared/time';
import { transitionMany } from '../sending/transition';
import { listOpenRounds } from '../scores/open-rounds';

/** What an erased pro is called wherever their name was. */
export const FORMER_PRO_NAME = 'Former pro';

/**
 * A pro who left, with their personal data erased on request (`DELETE /v1/pros/{id}?erase=true`):
 * deactivated first (see `setProActive`), then their name becomes FORMER_PRO_NAME and their
 * address goes from the pro (with its email claim and sign-in lookup, in one transaction, so the
 * address is free and signs in nowhere), from their commitments (whose text is their own words)
 * and from the rounds that copied them; their rounds' invitations not yet sent are skipped (a
 * send worker's copy of the round still holds the name). Their scores, responses and summaries'
 * records stay: they are the agency's, and none names them. Every step sets a fixed state: asking
 * again finishes a run that was cut off.
 */
export async function erasePro(db: Db, agencyId: string, proId: string, now: Date): Promise<Pro> {
  const current = await deactivatePro(db, agencyId, proId, now);
  if (current.email !== '') {
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: db.table,
                Key: keys.pro(agencyId, proId),
                UpdateExpression: 'SET #name = :former, email = :none, updatedAt = :now, erasedAt = :now REMOVE #commitment',
                ConditionExpression: 'email = :read',
                ExpressionAttributeNames: { '#name': 'name', '#commitment': 'commitment' },
                ExpressionAttributeValues: { ':former': FORMER_PRO_NAME, ':none': '', ':now': iso(now), ':read': current.email },
              },
            },
            { Delete: { TableName: db.table, Key: keys.proEmail(agencyId, current.email) } },
            deleteLogin(db, { kind: 'pro', agencyId, proId }, current.email),
          ],
        }),
      );
    } catch (error) {
      // Changed meanwhile (renamed, or erased by a concurrent request): read and go again.
      if (!failedConditions(error)?.length) throw error;
      return erasePro(db, agencyId, proId, now);
    }
  }
  for await (const items of queryAll(db, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :cmt)',
    ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':cmt': `CMT#${proId}#` },
  })) {
    await mapConcurrent(items, 8, (item) =>
      db.doc.send(new UpdateCommand({ TableName: db.table, Key: { PK: item.PK as string, SK: item.SK as string }, UpdateExpression: 'SET #text = :none', ExpressionAttributeNames: { '#text': 'text' }, ExpressionAttributeValues: { ':none': '' } })),
    );
  }
  // The pro's rounds: through their campaigns (keys.ts 7 and 24), and, since those indexes may not
  // show yet a round written a moment ago, the agency's open rounds (15c), read strongly consistent.
  const erased = new Set<string>();
  const eraseRound = async (roundId: string, status: unknown) => {
    if (erased.has(roundId)) return;
    erased.add(roundId);
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.round(roundId),
        // `proErasedAt`: no invitation of the round goes back to pending from here (`returnToQueue`).
        UpdateExpression: 'SET proName = :former, proEmail = :none, #commitment = :null, proErasedAt = if_not_exists(proErasedAt, :now)',
        ExpressionAttributeNames: { '#commitment': 'commitment' },
        ExpressionAttributeValues: { ':former': FORMER_PRO_NAME, ':none': '', ':null': null, ':now': iso(now) },
      }),
    );
    if (status !== 'closed') await skipPendingInvitations(db, roundId);
  };
  for await (const campaigns of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :cmp)',
    ExpressionAttributeValues: { ':pk': keys.campaignByPro(agencyId, proId, '').GSI1PK, ':cmp': 'CMP#' },
  })) {
    for (const campaign of campaigns) {
      for await (const rounds of queryAll(db, {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.roundByCampaign(agencyId, campaign.campaignId as string, '', '').GSI2PK },
      })) {
        await mapConcurrent(rounds, 8, (round) => eraseRound(round.roundId as string, round.status));
      }
    }
  }
  const open = (await listOpenRounds(db, agencyId)).filter((round) => round.proId === proId);
  await mapConcurrent(open, 8, (round) => eraseRound(round.roundId, 'open'));
  return getPro(db, agencyId, proId);
}

/**
 * Skips every pending invitation of an erased pro's round. A send worker keeps the round it
 * emails from (`roundForSending`), the pro's name and address included, so the erasure stops the
 * round's first emails on the invitations: once it answers, none can be claimed (they are read
 * strongly consistent after the round is marked `proErasedAt`, and none goes back to pending
 * from then on). One a worker claimed before the skip reached it is a send in flight (`sending`).
 */
async function skipPendingInvitations(db: Db, roundId: string): Promise<void> {
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      FilterExpression: '#status = :pending',
      ProjectionExpression: 'invitationId, #status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending' },
      ConsistentRead: true,
    }),
  )) {
    await transitionMany(db, roundId, items.map((i) => i.invitationId as string), 'pending', 'skipped', { remove: END_LOOKS });
  }
}

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';

/**
 * Whether an erasure moved the invitation off this id (`unlinkInvitation` writes the marker in the
 * transaction that deletes it). Read only once the invitation is found missing, which is rare.
 */
export async function movedOff(db: Db, roundId: string, invitationId: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.movedInvitation(roundId, invitationId), ConsistentRead: true }));
  return Item !== undefined;
}

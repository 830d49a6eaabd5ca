import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../db/conditions';
import { transactIfUnchanged } from '../db/transact';
import { eventIdFor, webhookOutbox } from '../webhooks/events';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { iso } from '../shared/time';
import { addressHash } from './address';

export type SuppressionReason = 'bounced' | 'complained' | 'unsubscribed';

export type SuppressionScope = { global: true } | { agencyId: string };

/** How long an unsubscribe can be undone from the link that made it. */
export const UNDO_UNSUBSCRIBE_HOURS = 24;

const keyOf = (email: string, scope: SuppressionScope) => {
  const hash = addressHash(email);
  return 'global' in scope ? keys.globalSuppression(hash) : keys.agencySuppression(hash, scope.agencyId);
};

/**
 * Stops mail to an address. `global` (a bounce, a complaint, or "stop all Rapport surveys") holds
 * for every agency; otherwise only for the agency named. The first reason recorded stays: a
 * complaint is not turned into an unsubscribe by a later click. `via` is the invitation whose
 * unsubscribe link made it, so that link (and only it) can undo it for a while (`unsuppress`).
 * `notify`: the agency whose recipient it is hears of it by webhook (`recipient.<reason>`), written
 * in the same transaction as the suppression, so only a new suppression is told, and always.
 * Whether the suppression is new.
 */
export async function suppress(db: Db, email: string, reason: SuppressionReason, scope: SuppressionScope, now: Date, via?: string, notify?: { agencyId: string }): Promise<boolean> {
  const put = {
    TableName: db.table,
    Item: { ...keyOf(email, scope), type: 'suppression', reason, at: iso(now), ...(via ? { via } : {}) },
    ConditionExpression: 'attribute_not_exists(PK)',
  };
  const event = notify
    ? await webhookOutbox(db, {
        eventId: eventIdFor(now, 'recipient', notify.agencyId, addressHash(email), 'global' in scope ? 'global' : 'agency'),
        agencyId: notify.agencyId,
        type: `recipient.${reason}`,
        timestamp: iso(now),
        data: { email, reason, scope: 'global' in scope ? 'all-agencies' : 'agency', at: iso(now) },
      })
    : [];
  if (event.length > 0) return transactIfUnchanged(db, [{ Put: put }, ...event]);
  try {
    await db.doc.send(new PutCommand(put));
    return true;
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    return false;
  }
}

/**
 * Undoes an unsubscribe, from the link that made it, within UNDO_UNSUBSCRIBE_HOURS: the delete is
 * conditional on the item being an unsubscribe made `via` that invitation since then. A bounce or a
 * complaint is never lifted, nor an unsubscribe made by another link or earlier. Whether it was lifted.
 */
export async function unsuppress(db: Db, email: string, scope: SuppressionScope, via: string, now: Date): Promise<boolean> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: keyOf(email, scope),
        ConditionExpression: 'reason = :unsubscribed AND via = :via AND #at >= :since',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':unsubscribed': 'unsubscribed', ':via': via, ':since': iso(new Date(now.getTime() - UNDO_UNSUBSCRIBE_HOURS * 3_600_000)) },
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    return false;
  }
}

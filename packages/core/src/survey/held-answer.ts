/**
 * An anonymous round's first answer to a `sent` invitation is held on the invitation itself
 * (`heldAnswer`), written with its status in one conditional update: no transaction, as the
 * invitation is the item every guard of an answer already lives on (its status, an erasure's
 * `erasedAt`, a cancel's `answersClosedAt`, a reminder in flight). Nothing shows an anonymous
 * answer before its round closes, so it moves to its own item (`RSP#`) only when something needs it
 * there: a revision (in the revision's transaction), an erasure, or the close, before the release
 * reads the round's answers (`settleHeldAnswers`). Moving is one transaction, off the answer's path.
 */
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { mapConcurrent } from '../db/batch';
import { transactIfUnchanged, updateIfUnchanged } from '../db/transact';
import { queryAll, roundInvitationsQuery } from '../db/page';
import type { SurveyResponse } from './response';
import { responseItem, responseOf } from './response-item';

const HELD = 'heldAnswer';

/** An invitation item as read: the invitation, and the answer it holds (if any). */
export function splitHeldAnswer(item: Record<string, unknown>): { invitation: Record<string, unknown>; held: SurveyResponse | null } {
  const { [HELD]: held, ...invitation } = item;
  return { invitation, held: held ? responseOf(held as Record<string, unknown>) : null };
}

/**
 * The most an answer held on its invitation takes, stored (bytes of JSON). Every read of a round's
 * invitations is billed, and paged at 1 MB, by their size (`roundProgress` on each view of the
 * round, the close, the round's check): held answers keep them within a few KB. A longer one (a
 * long comment) is written in the transaction.
 */
export const HELD_ANSWER_MAX_BYTES = 1024;
export const fitsHeld = (response: SurveyResponse): boolean => Buffer.byteLength(JSON.stringify(responseItem(response))) <= HELD_ANSWER_MAX_BYTES;

/**
 * Writes an anonymous first answer to a `sent` invitation, held on it: the same update of the
 * invitation as in the answer's transaction (status, answer time, out of the reminder and
 * recovery indexes), under the same conditions. False when one failed (the caller reads again).
 */
export function holdFirstAnswer(db: Db, response: SurveyResponse, now: string): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.invitation(response.roundId, response.invitationId),
    UpdateExpression: `SET #status = :responded, respondedAt = :now, nextReminderAt = :none, answeredFrom = :sent, ${HELD} = :answer REMOVE checkAt`,
    // Not answered, expired by a close, erased, closed to answers by a cancel, nor reminded just now since it was read.
    ConditionExpression: `#status = :sent AND attribute_not_exists(erasedAt) AND attribute_not_exists(reminderSending) AND attribute_not_exists(answersClosedAt) AND attribute_not_exists(${HELD})`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':responded': 'responded', ':sent': 'sent', ':now': now, ':none': null, ':answer': responseItem(response) },
  });
}

/** The clauses of a revision's invitation update that takes the held answer it read off it (or none, when none was held). */
export const takeHeldClauses = (held: SurveyResponse | null) => ({
  remove: HELD,
  condition: held ? `${HELD}.revision = :heldRevision` : `attribute_not_exists(${HELD})`,
  values: held ? { ':heldRevision': held.revision } : {},
});

/**
 * Moves an invitation's held answer to its own item, in one transaction: the response (absent)
 * and the held copy removed (of the revision read). Not two writes: a mover slow between them
 * would put back an answer that an erasure or the release had moved off its key since. Nothing
 * when a condition failed: moved already, or revised (which moved it).
 */
export async function settleHeldAnswer(db: Db, held: SurveyResponse): Promise<void> {
  await transactIfUnchanged(db, [
    { Put: { TableName: db.table, Item: { ...keys.response(held.roundId, held.invitationId), type: 'response', ...responseItem(held) }, ConditionExpression: 'attribute_not_exists(PK)' } },
    {
      Update: {
        TableName: db.table,
        Key: keys.invitation(held.roundId, held.invitationId),
        UpdateExpression: `REMOVE ${HELD}`,
        ConditionExpression: `${HELD}.revision = :revision`,
        ExpressionAttributeValues: { ':revision': held.revision },
      },
    },
  ]);
}

/**
 * Moves every answer held on a round's invitations to its own item: run by the close once the
 * round is closed to answers (no invitation is `sent` any more, and a revision checks the round),
 * before the release reads them. Returns how many it found held (a concurrent mover may have moved some).
 */
export async function settleHeldAnswers(db: Db, roundId: string): Promise<number> {
  let moved = 0;
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      FilterExpression: `attribute_exists(${HELD})`,
      ConsistentRead: true,
    }),
  )) {
    await mapConcurrent(items, 8, (item) => settleHeldAnswer(db, splitHeldAnswer(item).held!));
    moved += items.length;
  }
  return moved;
}

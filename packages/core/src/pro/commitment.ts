import * as v from 'valibot';
import { maxChars, minChars } from '../shared/schemas';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { failedConditions } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { NotFoundError } from '../shared/errors';
import { isId, newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';

export const COMMITMENT_MAX_LENGTH = 280;

export const CommitmentInputSchema = v.object({
  text: v.pipe(
    v.string(),
    maxChars(COMMITMENT_MAX_LENGTH),
    v.trim(),
    minChars(1, 'must not be empty'),
    v.metadata({ examples: ['I will answer reporters within two hours'] }),
  ),
});

/** What a pro said they will change after reading their feedback ("I will answer reporters within two hours"). */
export interface Commitment {
  commitmentId: string;
  proId: string;
  text: string;
  createdAt: string;
}

/**
 * Records a pro's commitment and makes it the pro's current one, in one transaction conditional
 * on the pro existing. Later rounds carry it into their emails and pages ("here is what Jane is
 * changing"), and summaries report the scores since.
 */
export async function recordCommitment(db: Db, agencyId: string, proId: string, input: unknown, now: Date): Promise<Commitment> {
  const { text } = parseInput(CommitmentInputSchema, input);
  if (!isId('pro', proId)) throw new NotFoundError('pro');
  const commitment: Commitment = { commitmentId: newId('cmt'), proId, text, createdAt: iso(now) };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.table,
              Key: keys.pro(agencyId, proId),
              UpdateExpression: 'SET #commitment = :current',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeNames: { '#commitment': 'commitment' },
              ExpressionAttributeValues: { ':current': { text, since: commitment.createdAt } },
            },
          },
          { Put: { TableName: db.table, Item: { ...keys.commitment(agencyId, proId, commitment.commitmentId), type: 'commitment', agencyId, ...commitment } } },
        ],
      }),
    );
  } catch (error) {
    if (failedConditions(error)?.includes(0)) throw new NotFoundError('pro');
    throw error;
  }
  return commitment;
}

/** A pro's commitments, oldest first. */
export function listCommitments(db: Db, agencyId: string, proId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: `CMT#${proId}#` }, page, (item) => {
    const { agencyId: _a, ...commitment } = withoutKeys<Commitment & { agencyId: string }>(item);
    return commitment;
  });
}

/** The commitment a pro had at a moment (the latest made before it), if any. */
export async function commitmentAt(db: Db, agencyId: string, proId: string, moment: string): Promise<{ text: string; since: string } | null> {
  let found: Commitment | null = null;
  let cursor: string | undefined;
  do {
    const page = await listCommitments(db, agencyId, proId, { limit: 100, cursor });
    for (const c of page.items) if (c.createdAt < moment) found = c;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found && { text: found.text, since: found.createdAt };
}

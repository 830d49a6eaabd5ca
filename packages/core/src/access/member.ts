import * as v from 'valibot';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { failedConditions } from '../db/conditions';
import { ConflictError, NotFoundError } from '../shared/errors';
import { isId, newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { EmailSchema, NameSchema } from '../shared/schemas';

/** What an agency member may do in the console: an admin everything, a lead read every pro's results. */
export const MEMBER_ROLES = ['admin', 'lead'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const MemberInputSchema = v.object({
  name: NameSchema,
  email: EmailSchema,
  role: v.picklist(MEMBER_ROLES, 'must be admin or lead'),
});

/** A person of the agency who signs in to the console (not a pro, who signs in by the pro's own record). */
export interface Member {
  memberId: string;
  agencyId: string;
  name: string;
  email: string;
  role: MemberRole;
  /** Set when an admin deactivated the member: no sign-in, no session. */
  deactivatedAt?: string;
  createdAt: string;
  updatedAt: string;
}

export async function createMember(db: Db, agencyId: string, input: unknown, now: Date): Promise<Member> {
  const { name, email, role } = parseInput(MemberInputSchema, input);
  const member: Member = { memberId: newId('mbr'), agencyId, name, email, role, createdAt: iso(now), updatedAt: iso(now) };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.table, Item: { ...keys.memberEmail(agencyId, email), type: 'memberEmail', memberId: member.memberId }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Put: { TableName: db.table, Item: { ...keys.member(agencyId, member.memberId), type: 'member', ...member }, ConditionExpression: 'attribute_not_exists(PK)' } },
        ],
      }),
    );
  } catch (error) {
    if (failedConditions(error)?.includes(0)) throw new ConflictError('Another member of this agency already has this email', 'email');
    throw error;
  }
  return member;
}

export async function getMember(db: Db, agencyId: string, memberId: string): Promise<Member> {
  if (!isId('mbr', memberId)) throw new NotFoundError('member');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.member(agencyId, memberId) }));
  if (!Item) throw new NotFoundError('member');
  return withoutKeys<Member>(Item);
}

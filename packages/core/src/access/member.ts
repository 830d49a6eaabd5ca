import * as v from 'valibot';
import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { setAttributes, withoutKeys } from '../db/items';
import { failedConditions, isTransactionConflict } from '../db/conditions';
import { queryPrefix } from '../db/page';
import { deleteLogin, putLogin } from './login';
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

export const MemberPatchSchema = v.strictObject({ name: v.optional(NameSchema), role: v.optional(MemberInputSchema.entries.role) });

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * The agency's count of active admins moves in the same transaction as a member's role or
 * deactivation; taking one away is conditional on another being left, so two admins demoting or
 * deactivating each other at once cannot leave the agency with none.
 */
const countAdmins = (db: Db, agencyId: string, delta: 1 | -1): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: keys.memberAdmins(agencyId),
    UpdateExpression: 'ADD #n :delta SET #type = :type',
    ...(delta < 0 ? { ConditionExpression: '#n > :one' } : {}),
    ExpressionAttributeNames: { '#n': 'n', '#type': 'type' },
    ExpressionAttributeValues: { ':delta': delta, ':type': 'memberAdmins', ...(delta < 0 ? { ':one': 1 } : {}) },
  },
});
const lastAdmin = () => new ConflictError('An agency keeps at least one admin: make another member admin first', 'role');

/** `memberId`: an id chosen by the caller, for a creation that must happen once however often it is retried (sign-up). */
export async function createMember(db: Db, agencyId: string, input: unknown, now: Date, { memberId = newId('mbr') }: { memberId?: string } = {}): Promise<Member> {
  const { name, email, role } = parseInput(MemberInputSchema, input);
  const member: Member = { memberId, agencyId, name, email, role, createdAt: iso(now), updatedAt: iso(now) };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.table, Item: { ...keys.memberEmail(agencyId, email), type: 'memberEmail', memberId: member.memberId }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Put: { TableName: db.table, Item: { ...keys.member(agencyId, member.memberId), type: 'member', ...member }, ConditionExpression: 'attribute_not_exists(PK)' } },
          // The member signs in to the console with this address.
          putLogin(db, { kind: 'member', agencyId, memberId: member.memberId }, email),
          ...(role === 'admin' ? [countAdmins(db, agencyId, 1)] : []),
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

/** Every member of an agency, active and deactivated, oldest first (an agency has a handful; read page by page underneath). */
export async function listMembers(db: Db, agencyId: string): Promise<Member[]> {
  const members: Member[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'MBR#' }, { limit: 100, cursor }, (item) => withoutKeys<Member>(item));
    members.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return members;
}

/**
 * An update of an active member, conditional on the role read: the admin count moves in the same
 * transaction, so a concurrent role change or deactivation cannot leave it wrong.
 */
function memberUpdate(db: Db, current: Member, values: Record<string, unknown>): TransactItem {
  const set = setAttributes(values);
  return {
    Update: {
      TableName: db.table,
      Key: keys.member(current.agencyId, current.memberId),
      ...set,
      ConditionExpression: '#role = :oldRole AND attribute_not_exists(deactivatedAt)',
      ExpressionAttributeNames: { ...set.ExpressionAttributeNames, '#role': 'role' },
      ExpressionAttributeValues: { ...set.ExpressionAttributeValues, ':oldRole': current.role },
    },
  };
}

/**
 * Changes an active member's name or role; conditional on the role and activity read, with the
 * admin count moved alongside when the role changes (never to no admin: 409).
 */
export async function updateMember(db: Db, agencyId: string, memberId: string, input: unknown, now: Date): Promise<Member> {
  const patch = parseInput(MemberPatchSchema, input);
  const current = await getMember(db, agencyId, memberId);
  if (current.deactivatedAt) throw new ConflictError('This member is deactivated');
  const next: Member = { ...current, ...patch, updatedAt: iso(now) };
  const update = memberUpdate(db, current, { name: next.name, role: next.role, updatedAt: next.updatedAt });
  const roleChanges = next.role !== current.role;
  await write(db, [update, ...(roleChanges ? [countAdmins(db, agencyId, next.role === 'admin' ? 1 : -1)] : [])]);
  return next;
}

/**
 * Deactivates a member: no more sign-in (their lookup goes), and `resolveSession` refuses their
 * sessions from now on. An admin cannot deactivate themself, nor the agency's last admin (409).
 */
export async function deactivateMember(db: Db, agencyId: string, memberId: string, by: { memberId: string }, now: Date): Promise<Member> {
  const current = await getMember(db, agencyId, memberId);
  if (memberId === by.memberId) throw new ConflictError('You cannot deactivate yourself: ask another admin');
  if (current.deactivatedAt) return current;
  const next: Member = { ...current, deactivatedAt: iso(now), updatedAt: iso(now) };
  await write(db, [
    memberUpdate(db, current, { deactivatedAt: next.deactivatedAt, updatedAt: next.updatedAt }),
    deleteLogin(db, { kind: 'member', agencyId, memberId }, current.email),
    ...(current.role === 'admin' ? [countAdmins(db, agencyId, -1)] : []),
  ]);
  return next;
}

/** A member change with its admin count, if any: a failed count is the last admin, any other failed condition a concurrent change. */
async function write(db: Db, items: TransactItem[]) {
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const failed = failedConditions(error);
    const countIndex = items.findIndex((i) => i.Update?.Key?.SK === 'MBRADMINS');
    if (failed?.includes(countIndex) && countIndex >= 0) throw lastAdmin();
    if (failed?.length || isTransactionConflict(error)) throw new ConflictError('The member changed concurrently; try again');
    throw error;
  }
}

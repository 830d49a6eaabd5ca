import * as v from 'valibot';
import { TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { setAttributes, withoutKeys } from '../db/items';
import { failedConditions, isConditionFailed } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { ConflictError } from '../shared/errors';
import { newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { EmailSchema, NameSchema } from '../shared/schemas';
import { deleteLogin, putLogin } from '../access/login';
import { endAllSessions, signedOutMark } from '../access/session';
import { getPro } from './read';
import { mapConcurrent } from '../db/batch';
import { updateIfUnchanged } from '../db/transact';
import { listOpenRounds } from '../scores/open-rounds';

export { getPro };

export const ProInputSchema = v.object({ name: NameSchema, email: EmailSchema });
export const ProPatchSchema = v.strictObject({ name: v.optional(NameSchema), email: v.optional(EmailSchema) });

export interface Pro {
  proId: string;
  agencyId: string;
  name: string;
  email: string;
  /** The pro's latest commitment, if any (see ./commitment.ts). */
  commitment?: { text: string; since: string };
  /** When the pro stopped their summaries, or early warnings, by the link in one (see preferences/mail-preferences.ts). */
  summariesOff?: string;
  earlyWarningsOff?: string;
  /** When an admin deactivated the pro (see `deactivatePro`); absent while active. */
  deactivatedAt?: string;
  /** When their personal data was erased (`erasePro`): the record stays, as "Former pro", for good. */
  erasedAt?: string;
  createdAt: string;
  updatedAt: string;
}

const emailTaken = () => new ConflictError('Another pro of this agency already has this email', 'email');

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
const claimEmail = (db: Db, agencyId: string, email: string, proId: string): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: { ...keys.proEmail(agencyId, email), type: 'proEmail', proId },
    ConditionExpression: 'attribute_not_exists(PK)',
  },
});

/** `proId`: an id chosen by the caller, for a creation that must happen once however often it is retried (sign-up). */
export async function createPro(db: Db, agencyId: string, input: unknown, now: Date, { proId = newId('pro') }: { proId?: string } = {}): Promise<Pro> {
  const { name, email } = parseInput(ProInputSchema, input);
  const pro: Pro = { proId, agencyId, name, email, createdAt: iso(now), updatedAt: iso(now) };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          claimEmail(db, agencyId, email, pro.proId),
          {
            Put: {
              TableName: db.table,
              Item: { ...keys.pro(agencyId, pro.proId), type: 'pro', ...pro },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          // The pro signs in to the console with this address.
          putLogin(db, { kind: 'pro', agencyId, proId: pro.proId }, email),
        ],
      }),
    );
  } catch (error) {
    if (failedConditions(error)?.includes(0)) throw emailTaken();
    throw error;
  }
  return pro;
}

export function listPros(db: Db, agencyId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'PRO#' }, page, (item) => withoutKeys<Pro>(item));
}

/** Every pro of an agency, for jobs and agency-wide reports (page by page underneath). */
export async function listAllPros(db: Db, agencyId: string): Promise<Pro[]> {
  const pros: Pro[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPros(db, agencyId, { limit: 100, cursor });
    pros.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return pros;
}

/**
 * Updates a pro. A new email moves the uniqueness claim in the same transaction, conditional on
 * the email read, so two concurrent renames cannot both keep a claim.
 */
export async function updatePro(db: Db, agencyId: string, proId: string, input: unknown, now: Date): Promise<Pro> {
  const patch = parseInput(ProPatchSchema, input);
  const current = await getPro(db, agencyId, proId);
  // A name or an address written back would undo the erasure (and claim the address again).
  if (current.erasedAt) throw new ConflictError('This pro’s personal data was erased: add them as a new pro instead');
  const next: Pro = { ...current, ...patch, updatedAt: iso(now) };
  const set = setAttributes({ name: next.name, email: next.email, updatedAt: next.updatedAt });
  const update = {
    TableName: db.table,
    Key: keys.pro(agencyId, proId),
    ...set,
    // Conditional on the email read, so a concurrent change of it cannot strand a claim.
    ConditionExpression: '#email = :oldEmail',
    ExpressionAttributeNames: { ...set.ExpressionAttributeNames, '#email': 'email' },
    ExpressionAttributeValues: { ...set.ExpressionAttributeValues, ':oldEmail': current.email },
  };
  const emailChanges = next.email.toLowerCase() !== current.email.toLowerCase();
  try {
    if (!emailChanges) {
      await db.doc.send(new UpdateCommand(update));
    } else {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            claimEmail(db, agencyId, next.email, proId),
            { Delete: { TableName: db.table, Key: keys.proEmail(agencyId, current.email) } },
            { Update: update },
            deleteLogin(db, { kind: 'pro', agencyId, proId }, current.email),
            putLogin(db, { kind: 'pro', agencyId, proId }, next.email),
            // A session is the old address's: whoever read that mailbox (a typo's owner) is signed out.
            signedOutMark(db, { kind: 'pro', agencyId, proId }, now),
          ],
        }),
      );
    }
  } catch (error) {
    const failed = failedConditions(error);
    if (failed?.includes(0)) throw emailTaken();
    if (failed?.length || isConditionFailed(error)) throw new ConflictError('The pro changed concurrently; try again');
    throw error;
  }
  if (next.name !== current.name || next.email !== current.email) await renameInOpenRounds(db, agencyId, proId, next);
  return next;
}

/**
 * A pro's open rounds take their corrected name and address: a round copies them at creation for
 * its emails (their signature and reply-to), so without this a reminder of a round sent before an
 * address was corrected would still send replies, which may quote the survey, to the old one. Not
 * a round the pro's erasure blanked; a worker's kept copy of a round (first emails) catches up
 * within a minute (`roundForSending`).
 */
async function renameInOpenRounds(db: Db, agencyId: string, proId: string, pro: Pick<Pro, 'name' | 'email'>): Promise<void> {
  const rounds = (await listOpenRounds(db, agencyId)).filter((round) => round.proId === proId);
  await mapConcurrent(rounds, 8, ({ roundId }) =>
    updateIfUnchanged(db, {
      Key: keys.round(roundId),
      UpdateExpression: 'SET proName = :name, proEmail = :email',
      ConditionExpression: '#status = :open AND proId = :proId AND attribute_not_exists(proErasedAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':name': pro.name, ':email': pro.email, ':open': 'open', ':proId': proId },
    }),
  );
}

/**
 * Deactivates a pro (a person who left the agency), or reactivates one (`active: true`). A
 * deactivated pro cannot sign in (their sessions stop at once, see `resolveSession`), gets no new
 * rounds (`createRound` refuses) and no summaries or early warnings; their rounds already sent run
 * to their close, and their scores, responses and email claim stay. Doing it twice changes nothing.
 * Deactivating also signs them out everywhere, first: reactivated, they sign in again, and a
 * session left on a device meanwhile stays ended (a failed update leaves an active pro signed out).
 */
export async function setProActive(db: Db, agencyId: string, proId: string, active: boolean, now: Date): Promise<Pro> {
  const current = await getPro(db, agencyId, proId);
  if (active === (current.deactivatedAt === undefined)) return current;
  // Active again, a "Former pro" with no address would be sent rounds and summaries.
  if (active && current.erasedAt) throw new ConflictError('This pro’s personal data was erased: add them as a new pro instead');
  if (!active) await endAllSessions(db, { kind: 'pro', agencyId, proId }, now);
  const updatedAt = iso(now);
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.pro(agencyId, proId),
        UpdateExpression: active ? 'SET updatedAt = :now REMOVE deactivatedAt' : 'SET updatedAt = :now, deactivatedAt = if_not_exists(deactivatedAt, :now)',
        ConditionExpression: active ? 'attribute_exists(PK) AND attribute_not_exists(erasedAt)' : 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':now': updatedAt },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return withoutKeys<Pro>(Attributes!);
  } catch (error) {
    if (isConditionFailed(error)) throw new ConflictError('The pro changed concurrently; try again');
    throw error;
  }
}

export const deactivatePro = (db: Db, agencyId: string, proId: string, now: Date) => setProActive(db, agencyId, proId, false, now);
export const reactivatePro = (db: Db, agencyId: string, proId: string, now: Date) => setProActive(db, agencyId, proId, true, now);

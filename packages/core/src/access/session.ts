import { createHash, randomBytes } from 'node:crypto';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { epochSeconds, iso } from '../shared/time';
import type { Pro } from '../pro/pro';
import type { Member, MemberRole } from './member';
import { loginHash } from './login';

/** Who a console session belongs to: a pro of an agency, or a member (admin or lead). */
export type Identity = { kind: 'pro'; agencyId: string; proId: string } | { kind: 'member'; agencyId: string; memberId: string };

/** The person behind a live session, as the console shows and checks them. */
export type Viewer =
  | { kind: 'pro'; agencyId: string; proId: string; name: string; email: string }
  | { kind: 'member'; agencyId: string; memberId: string; role: MemberRole; name: string; email: string };

/** A session lasts 14 days from sign-in, whatever is done with it: a lost laptop stays signed in no longer. */
export const SESSION_DAYS = 14;

const personId = (identity: Identity) => (identity.kind === 'pro' ? identity.proId : identity.memberId);
/** The table keeps only the SHA-256 of a session id: a copy of the table signs no one in. */
const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Starts a session for an identity: a random id (256 bits) for the cookie, stored hashed with a TTL.
 * `login`, the `loginHash` of the address whose link signed in: the session holds only while that
 * is the person's address (a correction ends it even when it lands between the link's use and
 * this write, where the sign-out mark, older than the session, would not).
 */
export async function startSession(db: Db, identity: Identity, now: Date, { login }: { login?: string } = {}): Promise<{ sessionId: string; expiresAt: Date }> {
  const sessionId = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_DAYS * 86_400_000);
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.session(hashOf(sessionId)), type: 'session', identity, ...(login ? { login } : {}), createdAt: iso(now), until: iso(expiresAt), expiresAt: epochSeconds(expiresAt) },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return { sessionId, expiresAt };
}

/**
 * The viewer of a session id, or null when there is none: unknown, expired (TTL deletes lag, so the
 * expiry is checked here), signed out everywhere since it began, its person deactivated or gone, or
 * their address no longer the one it signed in with.
 * One GetItem, then one BatchGet of the person and their sign-out mark.
 */
export async function resolveSession(db: Db, sessionId: string, now: Date): Promise<Viewer | null> {
  if (!SESSION_ID.test(sessionId)) return null;
  const { Item: session } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.session(hashOf(sessionId)), ConsistentRead: true }));
  if (!session || String(session.until) <= iso(now)) return null;
  const identity = session.identity as Identity;
  const personKey = identity.kind === 'pro' ? keys.pro(identity.agencyId, identity.proId) : keys.member(identity.agencyId, identity.memberId);
  const markKey = keys.signedOut(identity.agencyId, personId(identity));
  const { Responses } = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: [personKey, markKey], ConsistentRead: true } } }));
  const items = Responses?.[db.table] ?? [];
  const person = items.find((i) => i.SK === personKey.SK);
  const mark = items.find((i) => i.SK === markKey.SK);
  if (!person || person.deactivatedAt) return null;
  if (mark && String(mark.at) >= String(session.createdAt)) return null;
  if (typeof session.login === 'string' && loginHash(String(person.email)) !== session.login) return null;
  if (identity.kind === 'pro') {
    const pro = withoutKeys<Pro>(person);
    return { kind: 'pro', agencyId: pro.agencyId, proId: pro.proId, name: pro.name, email: pro.email };
  }
  const member = withoutKeys<Member>(person);
  return { kind: 'member', agencyId: member.agencyId, memberId: member.memberId, role: member.role, name: member.name, email: member.email };
}

/** Ends one session (signing out on this device). */
export async function endSession(db: Db, sessionId: string): Promise<void> {
  if (!SESSION_ID.test(sessionId)) return;
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.session(hashOf(sessionId)) }));
}

/** The mark that ends every session of a person begun up to `now`, checked by `resolveSession`: to write alone or in a transaction. */
export const signedOutMark = (db: Db, identity: Identity, now: Date) => ({
  Put: { TableName: db.table, Item: { ...keys.signedOut(identity.agencyId, personId(identity)), type: 'signedOut', at: iso(now) } },
});

/** Ends every session of a person begun up to now ("sign out everywhere"): one mark. */
export async function endAllSessions(db: Db, identity: Identity, now: Date): Promise<void> {
  await db.doc.send(new PutCommand(signedOutMark(db, identity, now).Put));
}

export const identityOf = (viewer: Viewer): Identity =>
  viewer.kind === 'pro' ? { kind: 'pro', agencyId: viewer.agencyId, proId: viewer.proId } : { kind: 'member', agencyId: viewer.agencyId, memberId: viewer.memberId };

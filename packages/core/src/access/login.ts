import { createHash, randomBytes } from 'node:crypto';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { addressHash } from '../survey/address';
import { epochSeconds, iso } from '../shared/time';
import type { Identity } from './session';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A sign-in link works for 15 minutes, once. */
export const SIGN_IN_LINK_MINUTES = 15;

/** Where an email signs in: the SHA-256 of the lower-cased address (the table holds no address as a key). */
export const loginHash = (email: string) => addressHash(email);

/**
 * The sign-in lookup of a pro or a member, written in the same transaction as their email claim
 * (and moved with it): one item per identity under the address's partition, so finding who may
 * sign in with an address is one Query, across agencies, with no Scan.
 */
export const putLogin = (db: Db, identity: Identity, email: string): TransactItem => ({
  Put: { TableName: db.table, Item: { ...keys.login(loginHash(email), identity), type: 'login', identity } },
});
export const deleteLogin = (db: Db, identity: Identity, email: string): TransactItem => ({
  Delete: { TableName: db.table, Key: keys.login(loginHash(email), identity) },
});

/** One identity an address may sign in as, with what the sign-in email shows of it. */
export interface LoginChoice {
  identity: Identity;
  /** The address on the person's record, as they gave it. */
  email: string;
  name: string;
  agencyName: string;
  /** "Pro", "Admin" or "Lead". */
  role: string;
}

/**
 * Everyone an address may sign in as, across agencies: one Query of its lookup items, then one
 * BatchGet of the people and their agencies. Deactivated people (and any lookup left behind by
 * one) are left out.
 */
export async function loginChoices(db: Db, login: string): Promise<LoginChoice[]> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.loginPartition(login) }, Limit: 50 }),
  );
  const identities = Items.map((i) => i.identity as Identity);
  if (identities.length === 0) return [];
  const personKey = (id: Identity) => (id.kind === 'pro' ? keys.pro(id.agencyId, id.proId) : keys.member(id.agencyId, id.memberId));
  const wanted = [...identities.map(personKey), ...[...new Set(identities.map((i) => i.agencyId))].map((a) => keys.agency(a))];
  const { Responses } = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: wanted } } }));
  const found = new Map((Responses?.[db.table] ?? []).map((item) => [`${item.PK}|${item.SK}`, item]));
  return identities.flatMap((identity) => {
    const key = personKey(identity);
    const person = found.get(`${key.PK}|${key.SK}`);
    const agency = found.get(`${keys.agency(identity.agencyId).PK}|AG`);
    if (!person || !agency || person.deactivatedAt || loginHash(String(person.email)) !== login) return [];
    const role = identity.kind === 'pro' ? 'Pro' : person.role === 'admin' ? 'Admin' : 'Lead';
    return [{ identity, email: String(person.email), name: String(person.name), agencyName: String(agency.name), role }];
  });
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** What a sign-up link carries until it is used: who asked for which agency; `request` keys the creation (see signup.ts). */
export interface PendingSignUp {
  request: string;
  agencyName: string;
  name: string;
  email: string;
  sendsSurveys: boolean;
}

/**
 * A link's token: 256 random bits, stored only as its SHA-256 with a TTL and what the link does:
 * sign in as an identity (with the `loginHash` of the address it was sent to, and where to go after,
 * `next`, already checked to be a local path), or
 * finish a sign-up (`signup`).
 */
async function putToken(db: Db, does: { identity: Identity; login: string; next?: string } | { signup: PendingSignUp }, now: Date): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const until = new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000);
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.signInToken(tokenHash(token)), type: 'signInToken', ...does, until: iso(until), expiresAt: epochSeconds(until) + 3600 },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return token;
}

/** A sign-in link for an identity, sent to the address whose `loginHash` is `login` (checked again when it is used). */
export const createSignInToken = (db: Db, identity: Identity, login: string, next: string | undefined, now: Date): Promise<string> =>
  putToken(db, { identity, login, ...(next ? { next } : {}) }, now);
export const createSignUpToken = (db: Db, signup: PendingSignUp, now: Date): Promise<string> => putToken(db, { signup }, now);

/** A link's stored item while it would still work (reading changes nothing: the page the link opens). */
async function liveToken(db: Db, token: string, now: Date) {
  if (!TOKEN.test(token)) return undefined;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.signInToken(tokenHash(token)), ConsistentRead: true }));
  return Item && String(Item.until) > iso(now) ? Item : undefined;
}

/** Whether a token is one that would still sign in. */
export const isSignInTokenLive = async (db: Db, token: string, now: Date): Promise<boolean> => Boolean((await liveToken(db, token, now))?.identity);

/** The sign-up a token would still finish, or null. */
export const readSignUpToken = async (db: Db, token: string, now: Date): Promise<PendingSignUp | null> => ((await liveToken(db, token, now))?.signup as PendingSignUp | undefined) ?? null;

/**
 * Uses a token up: a conditional delete (present, of this kind, not expired), so of two requests at
 * once only one gets it; undefined for a used, expired, forged or other kind of token.
 */
async function useToken(db: Db, token: string, now: Date, kind: 'identity' | 'signup') {
  if (!TOKEN.test(token)) return undefined;
  try {
    const { Attributes } = await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: keys.signInToken(tokenHash(token)),
        ConditionExpression: 'attribute_exists(PK) AND attribute_exists(#kind) AND #until > :now',
        ExpressionAttributeNames: { '#until': 'until', '#kind': kind },
        ExpressionAttributeValues: { ':now': iso(now) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes;
  } catch (error) {
    if (isConditionFailed(error)) return undefined;
    throw error;
  }
}

/**
 * Uses a sign-in token up: the identity, the `loginHash` it was sent to (for `startSession`) and
 * `next` for the first request, null for a used,
 * expired or forged token, or one sent to an address that is no longer the person's (an admin
 * corrected it: whoever holds the old one is someone else).
 */
export async function consumeSignInToken(db: Db, token: string, now: Date): Promise<{ identity: Identity; login: string; next?: string } | null> {
  const used = await useToken(db, token, now, 'identity');
  if (!used) return null;
  const identity = used.identity as Identity;
  const personKey = identity.kind === 'pro' ? keys.pro(identity.agencyId, identity.proId) : keys.member(identity.agencyId, identity.memberId);
  const { Item: person } = await db.doc.send(new GetCommand({ TableName: db.table, Key: personKey, ConsistentRead: true }));
  if (!person || typeof used.login !== 'string' || loginHash(String(person.email)) !== used.login) return null;
  return { identity, login: used.login, ...(typeof used.next === 'string' ? { next: used.next } : {}) };
}

/** Uses a sign-up token up: true for the one request that did. */
export const consumeSignUpToken = async (db: Db, token: string, now: Date): Promise<boolean> => Boolean(await useToken(db, token, now, 'signup'));

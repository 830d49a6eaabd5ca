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

/**
 * A sign-in link's token: 256 random bits, stored only as its SHA-256 with the identity, where to
 * go after (`next`, already checked to be a local path) and a TTL.
 */
export async function createSignInToken(db: Db, identity: Identity, next: string | undefined, now: Date): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const until = new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000);
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.signInToken(tokenHash(token)), type: 'signInToken', identity, ...(next ? { next } : {}), until: iso(until), expiresAt: epochSeconds(until) + 3600 },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return token;
}

/** Whether a token is one that would still sign in (for the page the link opens: reading changes nothing). */
export async function isSignInTokenLive(db: Db, token: string, now: Date): Promise<boolean> {
  if (!TOKEN.test(token)) return false;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.signInToken(tokenHash(token)), ConsistentRead: true }));
  return Boolean(Item && String(Item.until) > iso(now));
}

/**
 * Uses a sign-in token up: a conditional delete (present and not expired), so of two requests at
 * once only one gets the identity back; null for a used, expired or forged token.
 */
export async function consumeSignInToken(db: Db, token: string, now: Date): Promise<{ identity: Identity; next?: string } | null> {
  if (!TOKEN.test(token)) return null;
  try {
    const { Attributes } = await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: keys.signInToken(tokenHash(token)),
        ConditionExpression: 'attribute_exists(PK) AND #until > :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': iso(now) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!Attributes) return null;
    return { identity: Attributes.identity as Identity, ...(typeof Attributes.next === 'string' ? { next: Attributes.next } : {}) };
  } catch (error) {
    if (isConditionFailed(error)) return null;
    throw error;
  }
}

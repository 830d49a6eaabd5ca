import { createHash, randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { failedConditions } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { ConflictError, NotFoundError, UnauthorizedError } from '../shared/errors';
import { isId, newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { maxChars } from '../shared/schemas';

export const ROLES = ['admin', 'read'] as const;
export type Role = (typeof ROLES)[number];

export const ApiKeyInputSchema = v.object({
  role: v.picklist(ROLES, 'must be admin or read'),
  name: v.optional(v.pipe(v.string(), maxChars(100), v.trim()), ''),
});

export interface ApiKey {
  keyId: string;
  agencyId: string;
  role: Role;
  name: string;
  /** The key's last four characters, to tell keys apart without storing the secret. */
  hint: string;
  createdAt: string;
  revokedAt: string | null;
}

/** The identity a valid key gives a request. */
export interface Principal {
  agencyId: string;
  keyId: string;
  role: Role;
}

// `rpk_` lets secret scanners recognise a leaked key; 32 random bytes make it unguessable.
const KEY_PATTERN = /^rpk_[A-Za-z0-9_-]{43}$/;
const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

type StoredKey = ApiKey & { secretHash: string };
const toApiKey = (item: Record<string, unknown>): ApiKey => {
  const { secretHash: _hidden, ...key } = withoutKeys<StoredKey>(item);
  return key;
};

/**
 * Active keys an agency may hold. Each key has its own rate limit, so without a cap an admin key
 * could mint keys to multiply its allowance; 50 leaves room for every integration and person.
 */
export const MAX_ACTIVE_KEYS = 50;

/** How many of the agency's keys are not revoked (one query over its key records, counted). */
async function activeKeyCount(db: Db, agencyId: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :key)',
        FilterExpression: 'attribute_type(revokedAt, :null)',
        ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':key': 'KEY#', ':null': 'NULL' },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * Creates a key. The secret is returned here once; only its hash is stored. Past
 * `MAX_ACTIVE_KEYS` active keys it is a conflict (two creations at once may pass one over the cap).
 */
export async function createApiKey(
  db: Db,
  agencyId: string,
  input: unknown,
  now: Date,
): Promise<{ apiKey: ApiKey; secret: string }> {
  const { role, name } = parseInput(ApiKeyInputSchema, input);
  if ((await activeKeyCount(db, agencyId)) >= MAX_ACTIVE_KEYS) {
    throw new ConflictError(`The agency has ${MAX_ACTIVE_KEYS} active API keys, the most it may hold; revoke one first`);
  }
  const secret = `rpk_${randomBytes(32).toString('base64url')}`;
  const secretHash = hashSecret(secret);
  const apiKey: ApiKey = {
    keyId: newId('key'),
    agencyId,
    role,
    name,
    hint: secret.slice(-4),
    createdAt: iso(now),
    revokedAt: null,
  };
  await db.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: db.table,
            Item: { ...keys.apiKeyLookup(secretHash), type: 'apiKeyLookup', agencyId, keyId: apiKey.keyId, role },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Put: {
            TableName: db.table,
            Item: { ...keys.apiKey(agencyId, apiKey.keyId), type: 'apiKey', ...apiKey, secretHash },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ],
    }),
  );
  return { apiKey, secret };
}

/** One GetItem per request; a malformed key is refused before any read. */
export async function authenticate(db: Db, secret: string): Promise<Principal> {
  if (!KEY_PATTERN.test(secret)) throw new UnauthorizedError('The API key is not valid');
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: keys.apiKeyLookup(hashSecret(secret)) }),
  );
  if (!Item) throw new UnauthorizedError('The API key is not valid or has been revoked');
  return { agencyId: Item.agencyId as string, keyId: Item.keyId as string, role: Item.role as Role };
}

export async function getApiKey(db: Db, agencyId: string, keyId: string): Promise<ApiKey> {
  if (!isId('key', keyId)) throw new NotFoundError('API key');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.apiKey(agencyId, keyId) }));
  if (!Item) throw new NotFoundError('API key');
  return toApiKey(Item);
}

export function listApiKeys(db: Db, agencyId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'KEY#' }, page, toApiKey);
}

/**
 * Revokes a key: the lookup item goes (so the key stops authenticating at once) and the record
 * keeps `revokedAt` for the audit trail. Revoking twice answers with the same record.
 */
export async function revokeApiKey(db: Db, agencyId: string, keyId: string, now: Date): Promise<ApiKey> {
  if (!isId('key', keyId)) throw new NotFoundError('API key');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.apiKey(agencyId, keyId) }));
  if (!Item) throw new NotFoundError('API key');
  const stored = withoutKeys<StoredKey>(Item);
  if (stored.revokedAt) return toApiKey(Item);
  const revokedAt = iso(now);
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: db.table, Key: keys.apiKeyLookup(stored.secretHash) } },
          {
            Update: {
              TableName: db.table,
              Key: keys.apiKey(agencyId, keyId),
              UpdateExpression: 'SET revokedAt = :now',
              ConditionExpression: 'attribute_exists(PK) AND revokedAt = :null',
              ExpressionAttributeValues: { ':now': revokedAt, ':null': null },
            },
          },
        ],
      }),
    );
  } catch (error) {
    // A concurrent revoke won the race: the key is revoked either way.
    if (!failedConditions(error)?.length) throw error;
    return revokeApiKey(db, agencyId, keyId, now);
  }
  return toApiKey({ ...Item, revokedAt });
}

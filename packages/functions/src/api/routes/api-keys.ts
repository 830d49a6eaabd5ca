import { Hono } from 'hono';
import * as v from 'valibot';
import { createApiKey, listApiKeys, revokeApiKey, ApiKeyInputSchema, type ApiKey } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { ApiKeyCreatedOut, ApiKeyOut, named, PageQuery, pageBody, pageOf } from '../schemas';
import { apiKeyCreatedExample, apiKeyExample, apiKeyInputExample, pageExample } from '../examples';

const present = ({ agencyId: _agencyId, ...key }: ApiKey) => key;

/** What an idempotent replay answers: the key as created, its secret withheld, and why. */
export const SECRET_WITHHELD =
  'A replay of an earlier request: the secret is shown only in the first answer and is not stored. If it was lost, revoke this key and create another.';
const withoutSecret = (body: string) => JSON.stringify({ ...JSON.parse(body), secret: null, secretWithheld: SECRET_WITHHELD });
const tags = ['API keys'];

export const apiKeyRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .use(requireRole('admin'))
    .post(
      '/',
      doc({
        summary: 'Create an API key',
        description:
          'The response holds the key itself; it is stored only as a hash and never shown again. A replay with the same `Idempotency-Key` answers the key with `secret: null` and `secretWithheld` saying why: not even the idempotency record keeps the secret. An agency holds at most 50 active keys (409 past that: revoke one first).',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, ApiKeyCreatedOut, 'The new key, with its secret'],
        example: apiKeyCreatedExample,
        problems: ['conflict'],
      }),
      idempotent(db, now, withoutSecret),
      validate('json', named('ApiKeyInput', ApiKeyInputSchema), apiKeyInputExample),
      async (c) => {
        const { apiKey, secret } = await createApiKey(db, c.get('principal').agencyId, c.req.valid('json'), now());
        return c.json({ ...present(apiKey), secret }, 201);
      },
    )
    .get(
      '/',
      doc({ summary: 'List API keys', tags, role: 'admin', ok: [200, pageOf(ApiKeyOut), 'A page of keys, without secrets'], example: pageExample(apiKeyExample) }),
      validate('query', PageQuery),
      async (c) => {
        const page = await listApiKeys(db, c.get('principal').agencyId, c.req.valid('query'));
        return c.json(pageBody(page, present));
      },
    )
    .delete(
      '/:keyId',
      doc({
        summary: 'Revoke an API key',
        description: 'The key stops working at once. Revoking a revoked key answers the same.',
        tags,
        role: 'admin',
        ok: [200, ApiKeyOut, 'The revoked key'],
        example: { ...apiKeyExample, revokedAt: '2026-11-25T10:00:00.000Z' },
        problems: ['not-found'],
      }),
      validate('param', v.object({ keyId: v.pipe(v.string(), v.description('The key\'s id (`key_…`), from `GET /v1/api-keys`; not the key itself.')) })),
      async (c) => c.json(present(await revokeApiKey(db, c.get('principal').agencyId, c.req.valid('param').keyId, now()))),
    );

import { createMiddleware } from 'hono/factory';
import { authenticate, countRequest, ForbiddenError, UnauthorizedError, type Role } from '@rapport/core';
import type { Deps } from '../deps';
import type { ApiEnv } from './env';

/**
 * Resolves the Bearer API key to its agency and role (one GetItem), then counts the request
 * against the key's limit per minute (one conditional update; none when the limit is 0).
 */
export const requireApiKey = ({ db, config, now }: Pick<Deps, 'db' | 'config' | 'now'>) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) throw new UnauthorizedError('Send the API key as "Authorization: Bearer <key>"');
    const principal = await authenticate(db, match[1]!);
    if (config.apiRateLimitPerMinute > 0) await countRequest(db, principal.keyId, config.apiRateLimitPerMinute, now());
    c.set('principal', principal);
    await next();
  });

export const requireRole = (role: Role) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    if (role === 'admin' && c.get('principal').role !== 'admin') {
      throw new ForbiddenError('This needs an API key with the admin role');
    }
    await next();
  });

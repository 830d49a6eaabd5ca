import { createMiddleware } from 'hono/factory';
import { authenticate, ForbiddenError, UnauthorizedError, type Db, type Role } from '@rapport/core';
import type { ApiEnv } from './env';

/** Resolves the Bearer API key to its agency and role (one GetItem). */
export const requireApiKey = (db: Db) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) throw new UnauthorizedError('Send the API key as "Authorization: Bearer <key>"');
    c.set('principal', await authenticate(db, match[1]!));
    await next();
  });

export const requireRole = (role: Role) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    if (role === 'admin' && c.get('principal').role !== 'admin') {
      throw new ForbiddenError('This needs an API key with the admin role');
    }
    await next();
  });

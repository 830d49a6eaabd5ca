import { createMiddleware } from 'hono/factory';
import { authenticate, countRequest, ForbiddenError, UnauthorizedError, type Role } from '@rapport/core';
import type { Deps } from '../deps';
import { addressId } from '../client-address';
import type { ApiEnv } from './env';

/** Failed API keys are counted per client address in windows of 10 minutes. */
export const AUTH_FAILURE_WINDOW_SECONDS = 600;
const TOO_MANY_FAILURES = 'Too many failed API keys from this address';

const keyOf = async (db: Deps['db'], header: string | undefined) => {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw new UnauthorizedError('Send the API key as "Authorization: Bearer <key>"');
  return authenticate(db, match[1]!);
};

/**
 * Resolves the Bearer API key to its agency and role (one GetItem), then counts the request
 * against the key's limit per minute (one conditional update; none when the limit is 0).
 *
 * Each failed key (missing, malformed, unknown or revoked) counts against the client address;
 * past `AUTH_FAILURE_LIMIT_PER_ADDRESS` in the window, failures are answered 429 instead of 401.
 * A correct key always passes: keys are 256 random bits, so the throttle is there to make guessing
 * and floods of bad keys expensive, not to hide which guess was right; refusing correct keys too
 * would let anyone behind a shared address (an office, a NAT) lock out its real clients.
 */
export const requireApiKey = ({ db, config, now, clientAddress }: Pick<Deps, 'db' | 'config' | 'now' | 'clientAddress'>) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    const at = now();
    const principal = await keyOf(db, c.req.header('Authorization')).catch((error: Error) => error);
    if (principal instanceof UnauthorizedError) {
      const failures = { kind: 'AUTHFAIL', id: addressId(clientAddress(c)) } as const;
      await countRequest(db, failures, { limit: config.authFailureLimitPerAddress, windowSeconds: AUTH_FAILURE_WINDOW_SECONDS }, at, TOO_MANY_FAILURES);
    }
    if (principal instanceof Error) throw principal;
    await countRequest(db, { kind: 'KEY', id: principal.keyId }, { limit: config.apiRateLimitPerMinute, windowSeconds: 60 }, at, 'Too many requests for this API key');
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

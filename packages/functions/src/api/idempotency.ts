import { createMiddleware } from 'hono/factory';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  fingerprint,
  unlockIdempotencyKey,
  ValidationError,
  withoutErasedAddresses,
  type Db,
} from '@rapport/core';
import type { ApiEnv } from './env';
import { problem } from './problem';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Makes a creating POST safe to retry: with an `Idempotency-Key`, the first answer (any status
 * below 500) is stored and replayed for the same key and body; the key with another body is a 422.
 * A 5xx keeps the key but unlocks it, so the retry with the same body runs again at once and
 * resumes what the failed attempt may have written (a survey round's id follows from its key).
 * `stored` rewrites a successful answer before it is kept, so a secret in it is never stored.
 */
export const idempotent = (db: Db, now: () => Date, stored: (body: string) => string = (body) => body) =>
  createMiddleware<ApiEnv>(async (c, next) => {
    const key = c.req.header('Idempotency-Key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw ValidationError.field('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
    }
    const { agencyId, keyId } = c.get('principal');
    const requestHash = fingerprint(c.req.method, c.req.path, keyId, await c.req.text());
    const claim = await claimIdempotencyKey(db, agencyId, key, requestHash, now());
    switch (claim.outcome) {
      case 'replay':
        return c.body(claim.response.body, claim.response.status as 200, {
          'Content-Type': claim.response.contentType,
          'Idempotent-Replayed': 'true',
          ...(claim.response.location ? { Location: claim.response.location } : {}),
        });
      case 'mismatch':
        return problem(c, 'idempotency-key-reused', 'Use a new Idempotency-Key for a different request');
      case 'in-progress':
        c.header('Retry-After', '1');
        return problem(c, 'idempotency-in-progress');
      case 'claimed':
        break;
    }
    // Hono's compose turns a thrown error into c.res through onError, so next() does not throw.
    await next();
    if (c.res.status >= 500) return unlockIdempotencyKey(db, agencyId, key);
    try {
      const body = await c.res.clone().text();
      const location = c.res.headers.get('Location');
      const answer = {
        status: c.res.status,
        body: c.res.ok ? stored(body) : body,
        contentType: c.res.headers.get('Content-Type') ?? 'application/json',
        ...(location ? { location } : {}),
      };
      await completeIdempotencyKey(db, agencyId, key, answer);
      // Read after storing: an erasure that ran alongside rewrote the stored answers before this one was there.
      const kept = await withoutErasedAddresses(db, agencyId, answer.body);
      if (kept !== answer.body) await completeIdempotencyKey(db, agencyId, key, { ...answer, body: kept });
    } catch (error) {
      // The work is done but its answer not stored: let the retry run again (a round's resumes and answers the same).
      await unlockIdempotencyKey(db, agencyId, key).catch(() => undefined);
      throw error;
    }
  });

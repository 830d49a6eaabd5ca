import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { countRequest, RateLimitedError, verifyInvitationToken } from '@rapport/core';
import type { Deps } from '../deps';
import { addressId } from '../client-address';
import { Notice } from './layout';

/** The pages' limits count in windows of 10 minutes. */
export const PAGE_WINDOW_SECONDS = 600;

/** A link's rate windows are keyed by an HMAC of its invitation: the table does not say which link was opened when. */
const linkId = (secret: string, invitationId: string) => createHmac('sha256', secret).update(`rapport-rate-v1\u0000${invitationId}`).digest('base64url').slice(0, 22);

/**
 * Counts a request to a token page against its client address and, when the link is genuine,
 * against the link. A forged link costs one write (the address's count) and no read; a genuine one
 * two writes, side by side. Over either limit the request stops here (429 page, Retry-After).
 */
export const limitPages = ({ db, config, now, linkSecret, clientAddress }: Deps) =>
  createMiddleware(async (c, next) => {
    const at = now();
    const rate = (limit: number) => ({ limit, windowSeconds: PAGE_WINDOW_SECONDS });
    const ref = verifyInvitationToken(linkSecret, c.req.param('token') ?? '');
    const counted = await Promise.allSettled([
      countRequest(db, { kind: 'ADDR', id: addressId(clientAddress(c)) }, rate(config.pageRateLimitPerAddress), at, 'Too many page requests from this address'),
      ...(ref ? [countRequest(db, { kind: 'LINK', id: linkId(linkSecret, ref.invitationId) }, rate(config.pageRateLimitPerLink), at, 'Too many requests for this link')] : []),
    ]);
    const errors = counted.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const other = errors.find((e) => !(e instanceof RateLimitedError));
    if (other) throw other;
    const limited = (errors as RateLimitedError[]).sort((a, b) => b.retryAfterSeconds - a.retryAfterSeconds)[0];
    if (limited) throw limited;
    await next();
  });

const minutes = (seconds: number) => {
  const m = Math.ceil(seconds / 60);
  return m === 1 ? 'a minute' : `${m} minutes`;
};

/**
 * The pages' error handler: a respondent sees a page in plain words, never problem+json. Unexpected
 * errors are logged without the request (the token is in its path).
 */
export function pageError(error: Error, c: Context): Response | Promise<Response> {
  if (error instanceof RateLimitedError) {
    c.header('Retry-After', String(error.retryAfterSeconds));
    return c.html(
      <Notice title="Please try again in a few minutes">
        <p>This page was opened many times in a short while, so it is paused for now. Please try again in {minutes(error.retryAfterSeconds)}.</p>
        <p class="note">If you were sending answers, they were not saved: please send them again then.</p>
      </Notice>,
      429,
    );
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.html(
      <Notice title="This page could not be shown">
        <p>Something in the request was not as expected. Please open the link again from the email you received.</p>
      </Notice>,
      error.status as ContentfulStatusCode,
    );
  }
  console.error(JSON.stringify({ level: 'error', message: 'unhandled page error', error: String(error), stack: error.stack }));
  return c.html(
    <Notice title="Something went wrong">
      <p>Something went wrong on our side. If you were sending answers, they may not have been saved: please try again in a moment.</p>
    </Notice>,
    500,
  );
}

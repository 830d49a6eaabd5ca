import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { createMiddleware } from 'hono/factory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { countRequest, RateLimitedError, refuseIfOver, verifyInvitationToken, verifyMailToken } from '@rapport/core';
import type { Deps } from '../deps';
import { addressId } from '../client-address';
import { errorToResponse } from '../api/problem';
import { Notice } from './layout';

/**
 * The token sits in the URL, so no referrer may carry it away; no script runs at all, and the
 * pages cannot be framed (clickjacking a one-click form).
 */
export const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: 'no-referrer',
  xFrameOptions: 'DENY',
});

export const invalidLink = (c: Context) =>
  c.html(
    <Notice title="This link is not valid">
      <p>The link may be incomplete. Please open it again from the email you received, or copy the whole address.</p>
    </Notice>,
    404,
  );

export const unreadableForm = (c: Context) =>
  c.html(
    <Notice title="This form could not be read">
      <p>Please go back, and send the form again from the page.</p>
    </Notice>,
    400,
  );

export const tooLarge = (c: Context) =>
  c.html(
    <Notice title="This form is too large">
      <p>Please shorten your answers and send the form again.</p>
    </Notice>,
    413,
  );

/**
 * The fields of a posted form: URL-encoded, or multipart (what a browser sends for a form with
 * that encoding, and what RFC 8058 asks one-click unsubscribes to use); any other body has none.
 * null when the body cannot be parsed as the form it claims to be.
 */
export const formOf = (c: Context): Promise<Record<string, unknown> | null> => c.req.parseBody().catch(() => null);

/** The pages' limits count in windows of 10 minutes. */
export const PAGE_WINDOW_SECONDS = 600;

/** A link's rate windows are keyed by an HMAC of what it leads to: the table does not say which link was opened when. */
const linkId = (secret: string, link: string) => createHmac('sha256', secret).update(`rapport-rate-v1\u0000${link}`).digest('base64url').slice(0, 22);

/**
 * What a genuine token leads to, as counted by the per-link limit, or null for anything forged: a
 * survey link's invitation (its `/s` and `/u` pages together), or a preference link's recipient
 * (every `/m` link of one pro's or admin's, whatever its stream or expiry).
 */
export const invitationLink = (secret: string, token: string) => verifyInvitationToken(secret, token)?.invitationId ?? null;
export const mailLink = (secret: string, token: string, now: Date) => {
  const recipient = verifyMailToken(secret, token, now);
  return recipient && `mail.${recipient.agencyId}.${'proId' in recipient ? recipient.proId : recipient.adminHash}`;
};

/**
 * Counts a request to a token page: a forged link against its client address (one write, no
 * read), a genuine one (`linkOf`) against its link (one write) while the address's count is only
 * read (a tenth of a write), so a scan of forged links still stops every request from its address,
 * and a respondent's own requests cost one write, not two. Over either limit the request stops
 * here (429 page, Retry-After). `alongside` starts the page's own read of a genuine link meanwhile
 * (it writes nothing): the page awaits it after the counts, one round trip less per request.
 */
export const limitPages = (
  { db, config, now, linkSecret, clientAddress }: Deps,
  linkOf: (secret: string, token: string, now: Date) => string | null,
  alongside?: (c: Context) => Promise<unknown>,
) =>
  createMiddleware(async (c, next) => {
    const at = now();
    // Its outcome is the page's to await; a request refused here leaves it unread.
    alongside?.(c).catch(() => undefined);
    const rate = (limit: number) => ({ limit, windowSeconds: PAGE_WINDOW_SECONDS });
    const link = linkOf(linkSecret, c.req.param('token') ?? '', at);
    const fromAddress = [db, { kind: 'ADDR', id: addressId(clientAddress(c)) }, rate(config.pageRateLimitPerAddress), at, 'Too many page requests from this address'] as const;
    const counted = await Promise.allSettled(
      link
        ? [refuseIfOver(...fromAddress), countRequest(db, { kind: 'LINK', id: linkId(linkSecret, link) }, rate(config.pageRateLimitPerLink), at, 'Too many requests for this link')]
        : [countRequest(...fromAddress)],
    );
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
 * The pages' error handler: a person follows these links, so every error is a page in plain words,
 * never problem+json. The status, headers (Retry-After) and log line come from the one error mapper.
 */
export function pageError(error: Error, c: Context): Response | Promise<Response> {
  const { status } = errorToResponse(error, c);
  if (error instanceof RateLimitedError) {
    return c.html(
      <Notice title="Please try again in a few minutes">
        <p>This page was opened many times in a short while, so it is paused for now. Please try again in {minutes(error.retryAfterSeconds)}.</p>
        <p class="note">If you were sending answers, they were not saved: please send them again then.</p>
      </Notice>,
      429,
    );
  }
  if (status < 500) {
    return c.html(
      <Notice title="This page could not be shown">
        <p>Something in the request was not as expected. Please open the link again from the email you received.</p>
      </Notice>,
      status as ContentfulStatusCode,
    );
  }
  return c.html(
    <Notice title="Something went wrong">
      <p>Something went wrong on our side. If you were sending answers, they may not have been saved: please try again in a moment.</p>
    </Notice>,
    500,
  );
}

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError } from '@rapport/core';
import { errorToResponse } from '../api/problem';
import { ConsoleLayout } from './layout';

const page = (c: Context, status: number, title: string, text: string) =>
  c.html(
    <ConsoleLayout title={title} viewer={c.get('viewer')} csrf={c.get('csrf')}>
      <h1>{title}</h1>
      <p>{text}</p>
      <p>
        <a href={c.get('viewer') ? '/app' : '/'}>Back to the start</a>
      </p>
    </ConsoleLayout>,
    status as ContentfulStatusCode,
  );

/**
 * The console's error handler: every error is a page in plain words. Status, headers (Retry-After)
 * and the log line come from the one error mapper. A form's own validation errors never get here:
 * its page shows them next to their fields.
 */
export function consoleError(error: Error, c: Context): Response | Promise<Response> {
  const { status } = errorToResponse(error, c);
  if (error instanceof RateLimitedError) return page(c, 429, 'Please try again in a few minutes', `There were many requests in a short while. Please try again in ${Math.ceil(error.retryAfterSeconds / 60)} min.`);
  if (error instanceof ForbiddenError) return page(c, 403, 'Not allowed', error.message);
  if (error instanceof NotFoundError || status === 404) return page(c, 404, 'Page not found', 'There is nothing here, or it is not yours to see.');
  if (status === 413) return page(c, 413, 'This form is too large', 'Please shorten what you typed, and send it again.');
  // A conflict says what stands in the way (a deactivated pro, a change made meanwhile): its message is for people.
  if (error instanceof ConflictError) return page(c, 409, 'This could not be done', error.message);
  if (status < 500) return page(c, status, 'This request could not be handled', 'Something in it was not as expected. Please go back and try again.');
  return page(c, 500, 'Something went wrong', 'Something went wrong on our side. Please try again in a moment.');
}

export const consoleNotFound = (c: Context) => consoleError(new NotFoundError('page'), c);

import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs for the Lambda handlers (Powertools Logger): one JSON object per line with
 * the level, the service, the cold-start flag and, once a handler calls `logger.addContext`, the
 * Lambda request id (`function_request_id`). The level comes from `POWERTOOLS_LOG_LEVEL` (set per
 * stage in `stacks/`), INFO by default.
 *
 * What may be logged: ids (`ag_…`, `rnd_…`, `inv_…`), kinds, counts, outcomes and error names.
 * Never an email address, a name, a link token, an API key or a raw event: an SQS body holds ids
 * only, but an SES notification and an HTTP request carry addresses and secrets.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rapport' });

/** Anything shaped like an email address or an API key, in a message we did not write. */
const SECRETS = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+|rpk_[\w-]+/g;

/**
 * An error as safe log fields: its class and message (with addresses and keys masked), not the
 * objects it may carry, so a message that quotes an input cannot leak it; with `stack`, its stack
 * too (masked the same way: its first line is the message), for errors nobody expected.
 */
export function errorFields(error: unknown, { stack = false } = {}): { error: { name: string; message: string; stack?: string } } {
  const e = error instanceof Error ? error : new Error(String(error));
  const mask = (text: string) => text.replace(SECRETS, '[redacted]');
  return { error: { name: e.name, message: mask(e.message), ...(stack && e.stack ? { stack: mask(e.stack) } : {}) } };
}

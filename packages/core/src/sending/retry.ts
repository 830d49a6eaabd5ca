import type { OutgoingEmail } from '../email/compose';
import { toMailerError, type Mailer, type MailerError } from '../email/mailer';

/** The wait before the next try of an email SES did not take: 2 s, doubling, at most 5 minutes, with jitter. */
export const retryDelaySeconds = (retries: number) => Math.min(300, 2 ** Math.min(retries, 9)) * (0.8 + Math.random() * 0.4);

const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 500 };

export interface RetryDeps {
  mailer: Mailer;
  /** Attempts at SES per email, with exponential backoff between them (throttling, 5xx). */
  retry?: { attempts: number; baseDelayMs: number };
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Hands one email to SES, retrying with exponential backoff only what SES certainly did not take
 * (throttling, an error answer, no connection). A failure after which SES may have taken it (a
 * timeout, a reset) is not retried here: sending again could send twice, so the caller resolves
 * it from SES's own record (see `SendRecords`).
 */
export async function sendWithRetry(
  deps: RetryDeps,
  message: OutgoingEmail,
): Promise<{ messageId: string } | { error: MailerError }> {
  const { attempts, baseDelayMs } = deps.retry ?? DEFAULT_RETRY;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.mailer.send(message);
    } catch (error) {
      const mailerError = toMailerError(error);
      if (!mailerError.retryable || !mailerError.notAccepted || attempt >= attempts) return { error: mailerError };
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

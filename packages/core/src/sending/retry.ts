import type { OutgoingEmail } from '../email/compose';
import { toMailerError, type Mailer, type MailerError } from '../email/mailer';

const DEFAULT_RETRY = { attempts: 5, baseDelayMs: 500 };

export interface RetryDeps {
  mailer: Mailer;
  /** Attempts at SES per email, with exponential backoff between them (throttling, 5xx). */
  retry?: { attempts: number; baseDelayMs: number };
  sleep?: (ms: number) => Promise<void>;
}

/** Hands one email to SES, retrying throttling, 5xx and network failures with exponential backoff. */
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
      if (!mailerError.retryable || attempt >= attempts) return { error: mailerError };
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

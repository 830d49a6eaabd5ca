import { SendRawEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { composeMime, EmailCompositionError, type OutgoingEmail } from './compose';

/** The port the domain sends email through; SES on AWS and locally, anything else in principle. */
export interface Mailer {
  /** Sends one message; resolves with the provider's message id, rejects with a `MailerError`. */
  send(message: OutgoingEmail): Promise<{ messageId: string }>;
}

/**
 * A send that failed. `retryable` tells the send worker whether to put the message back on the
 * queue (with back-off) or to give up and mark the invitation `failed`.
 *
 * - Retryable: throttling (`Throttling`, `ThrottlingException`, `MaxSendingRateExceeded`, any
 *   HTTP 429), any 5xx, and network failures (no HTTP answer: connection refused or reset,
 *   timeouts). These say nothing about the message; the same message can succeed later, and SES
 *   asks senders to slow down and try again. SES reports its sending-rate limit as code
 *   `Throttling` with HTTP **400**, so the code is checked before the status. The daily quota is
 *   reported the same way; it gets the code `DailyQuotaExceeded` (still retryable, but only after
 *   hours, so a worker may want a longer delay).
 * - Not retryable: `MessageRejected` (SES refuses this content or recipient),
 *   `MailFromDomainNotVerifiedException`, `AccountSendingPausedException` (the sender or the
 *   account must be fixed by a person first) and every other 4xx, plus messages that cannot be
 *   composed (`InvalidMessage`). Retrying these only burns the queue's attempts and, for a paused
 *   account, keeps hitting SES while it is paused.
 * - An error of another kind (no HTTP status, not a network failure) is a bug: not retryable.
 *
 * A network failure after SES accepted a message can make a retry send it twice; that is the
 * at-least-once edge toward SES the design accepts, kept narrow by the invitation's conditional
 * state change.
 */
export class MailerError extends Error {
  override readonly name = 'MailerError';
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
    /**
     * SES certainly did not take the message: it answered no (throttling, a 4xx or 5xx), or no
     * connection was ever made (refused, no route, no DNS). After a timeout or a reset mid-request
     * it may have, so sending again could send twice.
     */
    readonly notAccepted = false,
  ) {
    super(message, options);
  }
}

const THROTTLING_CODES = new Set(['Throttling', 'ThrottlingException', 'MaxSendingRateExceeded', 'TooManyRequestsException']);

/** Of those, the ones raised before any request reached the server. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Node's socket and DNS error codes that mean "no answer from the server" (worth another try). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** Classifies an error thrown by the SES client (or anything else) as a `MailerError`; see there. */
export function toMailerError(error: unknown): MailerError {
  if (error instanceof MailerError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Unknown';
  const message = typeof e.message === 'string' && e.message ? e.message : String(error);
  const status = e.$metadata?.httpStatusCode;
  // Several attempts inside one call: an earlier one may have reached SES, whatever the last said.
  const oneAttempt = (e.$metadata?.attempts ?? 1) <= 1;
  const make = (code: string, retryable: boolean, notAccepted = status !== undefined) =>
    new MailerError(`SES: ${code}: ${message}`, code, retryable, { cause: error }, oneAttempt && notAccepted);

  if (error instanceof EmailCompositionError) return make('InvalidMessage', false);
  if (THROTTLING_CODES.has(name)) {
    return /daily (message )?quota/i.test(message) ? make('DailyQuotaExceeded', true, true) : make(name, true, true);
  }
  if (status === 429) return make(name === 'Unknown' || name === 'Error' ? 'TooManyRequests' : name, true);
  if (status !== undefined && status >= 500) return make(name, true);
  if (status !== undefined && status >= 400) return make(name, false);
  const code = typeof e.code === 'string' ? e.code : undefined;
  if ((code !== undefined && NETWORK_CODES.has(code)) || NETWORK_NAMES.has(name)) return make(code ?? name, true, code !== undefined && NOT_CONNECTED_CODES.has(code));
  return make(name, false);
}

export interface SesMailerOptions {
  region: string;
  /** The local SES server; unset on AWS. */
  endpoint?: string | undefined;
  /** A client to use instead of building one (tests, or a client shared with other code). */
  client?: SESClient | undefined;
}

export interface SesMailer extends Mailer {
  /** The SES client in use, e.g. to `destroy()` it when shutting down. */
  readonly client: SESClient;
}

/**
 * A `Mailer` on SES v1 `SendRawEmail`: the message is composed here (`composeMime`), so custom
 * headers such as `List-Unsubscribe` reach the recipient. The envelope sender is the From address
 * and the only envelope recipient is the To address, whatever the headers say.
 */
export function createSesMailer(options: SesMailerOptions): SesMailer {
  const client =
    options.client ??
    new SESClient({
      region: options.region,
      // One attempt per call: `sendWithRetry` retries with its own backoff, and an SDK retry hidden
      // inside one call would hide that an earlier attempt may have reached SES (a reset after SES
      // stored the email, then a refused retry, must not read as "SES took nothing").
      maxAttempts: 1,
      ...(options.endpoint
        ? {
            endpoint: options.endpoint,
            // The local SES server accepts any credentials; fixed ones avoid a lookup of the AWS profile chain.
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : {}),
    });

  return {
    client,
    async send(message) {
      try {
        const raw = await composeMime(message);
        const result = await client.send(
          new SendRawEmailCommand({
            Source: message.from.address.trim(),
            Destinations: [message.to.address.trim()],
            RawMessage: { Data: raw },
            ...(message.tags ? { Tags: Object.entries(message.tags).map(([Name, Value]) => ({ Name, Value })) } : {}),
          }),
        );
        if (!result.MessageId) {
          // SES answered 200 without an id: the message may well be on its way, so never retry.
          throw new MailerError('SES: the answer carried no MessageId', 'MissingMessageId', false);
        }
        return { messageId: result.MessageId };
      } catch (error) {
        throw toMailerError(error);
      }
    },
  };
}

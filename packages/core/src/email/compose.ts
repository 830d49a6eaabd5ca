import MailComposer from 'nodemailer/lib/mail-composer';
import { displayName, headerText } from './text';

/** A mailbox: an address and, optionally, a display name. */
export interface Address {
  name?: string | undefined;
  address: string;
}

/** One email to one recipient, as the domain describes it; `composeMime` turns it into MIME. */
export interface OutgoingEmail {
  from: Address;
  to: Address;
  replyTo?: Address | undefined;
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. `listUnsubscribeHeaders(url)`. Names are checked; values become one line. */
  headers?: Record<string, string> | undefined;
  /**
   * SES message tags (not in the message itself): they come back in SES's events, which is how a
   * `Send` event names the invitation it belongs to. Letters, digits, `_` and `-` only.
   */
  tags?: Record<string, string> | undefined;
}

/** The message cannot be composed safely (a malformed address or header name); retrying cannot help. */
export class EmailCompositionError extends Error {
  override readonly name = 'EmailCompositionError';
}

/**
 * An addr-spec without anything that could end it early or smuggle a second recipient in:
 * no whitespace or control characters, no `<>()[]",;:\` and exactly one `@`, a dot in the domain.
 * Stricter than RFC 5322 on purpose (no quoted local parts, no domain literals).
 */
const SAFE_ADDRESS = /^[^\s\u0000-\u001f\u007f-\u009f<>()[\]",;:\\@]+@[^\s\u0000-\u001f\u007f-\u009f<>()[\]",;:\\@]+\.[^\s\u0000-\u001f\u007f-\u009f<>()[\]",;:\\@.]+$/u;

/** A header field name (RFC 5322 §3.6.8): printable ASCII except the colon. */
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Headers the composer writes itself; `headers` may not replace or duplicate them. */
const RESERVED_HEADERS = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'return-path',
]);

function mailbox(field: string, value: Address): { name: string; address: string } {
  const address = value.address.trim();
  if (!SAFE_ADDRESS.test(address)) throw new EmailCompositionError(`${field}: not a plain email address`);
  return { name: displayName(value.name ?? ''), address };
}

function extraHeaders(headers: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new EmailCompositionError(`headers: invalid header name ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new EmailCompositionError(`headers: ${name} is set by the composer`);
    out[name] = headerText(value);
  }
  return out;
}

/**
 * Builds the raw MIME message (multipart/alternative: text, then HTML) with nodemailer's
 * MailComposer, which RFC 2047-encodes non-ASCII names and subjects, quotes display names and
 * folds long lines.
 *
 * Header safety does not rest on the library alone: CR, LF and every other control character in
 * the subject and extra header values are replaced with spaces (and bidi controls dropped) before
 * the library sees them, so no input can start a header line of its own (e.g. `\r\nBcc: …`), and
 * `=?` becomes `= ?` there and in names, so no text reads as an encoded-word a client would decode;
 * display names go through `displayName`, which also leaves nothing that reads as an address or a
 * domain (a pro named `ceo@bank.example` cannot send as one); addresses that are
 * not plain addr-specs and header names that are malformed or would replace the composer's own
 * headers are refused with an `EmailCompositionError`.
 */
export async function composeMime(message: OutgoingEmail): Promise<Buffer> {
  const composer = new MailComposer({
    from: mailbox('from', message.from),
    to: mailbox('to', message.to),
    ...(message.replyTo ? { replyTo: mailbox('replyTo', message.replyTo) } : {}),
    subject: headerText(message.subject),
    text: message.text,
    html: message.html,
    headers: extraHeaders(message.headers),
    // Content is always given inline; never let a string be read as a file path or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'win',
  });
  return composer.compile().build();
}

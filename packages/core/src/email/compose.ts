import { randomBytes, randomUUID } from 'node:crypto';
import { headerField, mailbox as mailboxText, quotedPrintable, unstructured } from './mime';
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

function mailbox(field: string, value: Address): string {
  const address = value.address.trim();
  if (!SAFE_ADDRESS.test(address)) throw new EmailCompositionError(`${field}: not a plain email address`);
  return mailboxText(displayName(value.name ?? ''), address);
}

function extraHeaders(headers: Record<string, string> = {}): [string, string][] {
  return Object.entries(headers).map(([name, value]) => {
    if (!HEADER_NAME.test(name)) throw new EmailCompositionError(`headers: invalid header name ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new EmailCompositionError(`headers: ${name} is set by the composer`);
    return [name, unstructured(headerText(value))];
  });
}

/** A text part: UTF-8 in quoted-printable (readable where the text is mostly ASCII, as ours is). */
const part = (type: 'plain' | 'html', content: string) =>
  `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${quotedPrintable(content)}`;

/**
 * Builds the raw MIME message (multipart/alternative: text, then HTML, CRLF line ends):
 * RFC 2047-encoded non-ASCII names, subjects and header values, quoted display names where
 * needed, folded header lines, quoted-printable bodies (see `./mime`).
 *
 * Header safety does not rest on the encoding alone: CR, LF and every other control character in
 * the subject and extra header values are replaced with spaces (and bidi controls dropped) first,
 * so no input can start a header line of its own (e.g. `\r\nBcc: …`), and
 * `=?` becomes `= ?` there and in names, so no text reads as an encoded-word a client would decode;
 * display names go through `displayName`, which also leaves nothing that reads as an address or a
 * domain (a pro named `ceo@bank.example` cannot send as one); addresses that are
 * not plain addr-specs and header names that are malformed or would replace the composer's own
 * headers are refused with an `EmailCompositionError`.
 */
export async function composeMime(message: OutgoingEmail): Promise<Buffer> {
  const boundary = `--_rapport_${randomBytes(12).toString('hex')}`;
  const headers: [string, string][] = [
    ['From', mailbox('from', message.from)],
    ['To', mailbox('to', message.to)],
    ...(message.replyTo ? [['Reply-To', mailbox('replyTo', message.replyTo)] as [string, string]] : []),
    ['Subject', unstructured(headerText(message.subject))],
    ...extraHeaders(message.headers),
    ['Message-ID', `<${randomUUID()}@${message.from.address.trim().split('@')[1]}>`],
    ['Date', new Date().toUTCString().replace('GMT', '+0000')],
    ['MIME-Version', '1.0'],
    ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
  ];
  const head = headers.map(([name, value]) => headerField(name, value)).join('\r\n');
  const body = [part('plain', message.text), part('html', message.html)].map((p) => `--${boundary}\r\n${p}\r\n`).join('');
  return Buffer.from(`${head}\r\n\r\n${body}--${boundary}--\r\n`);
}

import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { EmailSchema } from '../shared/schemas';

/** Addresses are compared lower-cased and trimmed; the stored form keeps what was given, trimmed. */
export const normalizeAddress = (email: string) => email.trim().toLowerCase();

export const addressHash = (email: string) => createHash('sha256').update(normalizeAddress(email)).digest('hex');

/**
 * The mailbox an address delivers to, as far as the address tells: lower-cased, without a
 * `+tag`, and for Gmail without dots (`a.b+x@googlemail.com` is `ab@gmail.com`). Used to count
 * people toward k, where aliases of one person must not pass for several: a round takes one
 * invitation per mailbox, and a pool counts its members by mailbox.
 */
export function mailboxOf(email: string): string {
  const normalized = normalizeAddress(email);
  const at = normalized.lastIndexOf('@');
  if (at < 0) return normalized;
  let local = normalized.slice(0, at).split('+')[0]!;
  let domain = normalized.slice(at + 1);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (domain === 'gmail.com') local = local.replaceAll('.', '');
  return `${local}@${domain}`;
}

export const isValidAddress = (email: string) => v.safeParse(EmailSchema, email).success;

/**
 * An address as a page may show it to whoever holds a link: the first character of the mailbox and
 * the domain (`j•••@example.com`), enough for its owner to recognise, too little to harvest.
 */
export function maskedAddress(email: string): string {
  const trimmed = email.trim();
  const at = trimmed.lastIndexOf('@');
  const first = Array.from(trimmed.slice(0, Math.max(at, 0)))[0] ?? '';
  return `${first}•••${trimmed.slice(at)}`;
}

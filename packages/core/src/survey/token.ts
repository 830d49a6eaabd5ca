import { createHmac, timingSafeEqual } from 'node:crypto';

export interface InvitationRef {
  roundId: string;
  invitationId: string;
}

/** 16 bytes = 128 bits of HMAC-SHA256: forging a link means guessing them. */
const MAC_BYTES = 16;
const ID = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

/** What a token is for, signed into its MAC: a token of one purpose never verifies as another's. */
export type TokenPurpose = 'rapport-link-v1' | 'rapport-mail-v1';

const mac = (secret: string, purpose: TokenPurpose, payload: string) =>
  createHmac('sha256', secret).update(`${purpose}\u0000${payload}`).digest().subarray(0, MAC_BYTES).toString('base64url');

/** `payload.signature`: readable, but signed for `purpose` (the payload must not need escaping in a URL). */
export function signToken(secret: string, purpose: TokenPurpose, payload: string): string {
  return `${payload}.${mac(secret, purpose, payload)}`;
}

/** The payload of a token signed for `purpose`, or null for anything forged, altered or malformed. */
export function verifyToken(secret: string, purpose: TokenPurpose, token: string): string | null {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = token.slice(0, dot);
  // Compared as text: decoding would accept other spellings of the last base64 character.
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(secret, purpose, payload));
  return given.length === expected.length && timingSafeEqual(given, expected) ? payload : null;
}

/**
 * The personal link token: the round and invitation ids, readable but signed. It carries no email
 * address, so a leaked link reveals nothing about the recipient.
 */
export function signInvitationToken(secret: string, ref: InvitationRef): string {
  return signToken(secret, 'rapport-link-v1', `${ref.roundId}.${ref.invitationId}`);
}

/** The ids a token carries, or null for anything forged, altered or malformed (no reason given). */
export function verifyInvitationToken(secret: string, token: string): InvitationRef | null {
  if (token.length > 200) return null;
  const [roundId, invitationId, ...rest] = token.split('.');
  if (!roundId || !invitationId || rest.length !== 1) return null;
  if (!ID.test(roundId) || !ID.test(invitationId)) return null;
  return verifyToken(secret, 'rapport-link-v1', token) === null ? null : { roundId, invitationId };
}

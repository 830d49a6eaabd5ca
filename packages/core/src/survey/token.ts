import { createHmac, timingSafeEqual } from 'node:crypto';

export interface InvitationRef {
  roundId: string;
  invitationId: string;
}

/** 16 bytes = 128 bits of HMAC-SHA256: forging a link means guessing them. */
const MAC_BYTES = 16;
const ID = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(`rapport-link-v1\u0000${payload}`).digest().subarray(0, MAC_BYTES);

/**
 * The personal link token: the round and invitation ids, readable but signed. It carries no email
 * address, so a leaked link reveals nothing about the recipient.
 */
export function signInvitationToken(secret: string, ref: InvitationRef): string {
  const payload = `${ref.roundId}.${ref.invitationId}`;
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The ids a token carries, or null for anything forged, altered or malformed (no reason given). */
export function verifyInvitationToken(secret: string, token: string): InvitationRef | null {
  if (token.length > 200) return null;
  const [roundId, invitationId, signature, ...rest] = token.split('.');
  if (!roundId || !invitationId || !signature || rest.length > 0) return null;
  if (!ID.test(roundId) || !ID.test(invitationId)) return null;
  // Compared as text: decoding would accept other spellings of the last base64 character.
  const given = Buffer.from(signature);
  const expected = Buffer.from(mac(secret, `${roundId}.${invitationId}`).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { roundId, invitationId };
}

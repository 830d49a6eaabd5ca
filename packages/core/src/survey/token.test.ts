import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signInvitationToken, verifyInvitationToken } from './token';

const secret = 'a-secret-of-at-least-thirty-two-characters!';
const ref = { roundId: 'rnd_01JD8X4ZB6V6M3Q0K7W2E9T5YH', invitationId: 'inv_01JD8X4ZB6V6M3Q0K7W2E9T5YJ' };

describe('invitation link tokens', () => {
  it('round-trips the ids', () => {
    const token = signInvitationToken(secret, ref);
    expect(token.startsWith(`${ref.roundId}.${ref.invitationId}.`)).toBe(true);
    expect(verifyInvitationToken(secret, token)).toEqual(ref);
  });

  it('refuses a token signed with another secret, or pointing at another invitation', () => {
    const token = signInvitationToken(secret, ref);
    expect(verifyInvitationToken('another-secret-of-at-least-thirty-two-chars', token)).toBeNull();
    const signature = token.split('.')[2];
    const other = `${ref.roundId}.inv_01JD8X4ZB6V6M3Q0K7W2E9T5YK.${signature}`;
    expect(verifyInvitationToken(secret, other)).toBeNull();
  });

  it('refuses every single-character alteration of a valid token', () => {
    const token = signInvitationToken(secret, ref);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'ABCxyz019-_.'), (index, char) => {
        fc.pre(token[index] !== char);
        const altered = token.slice(0, index) + char + token.slice(index + 1);
        expect(verifyInvitationToken(secret, altered)).toBeNull();
      }),
    );
  });

  it('refuses arbitrary strings without throwing', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => verifyInvitationToken(secret, s) === null));
    expect(verifyInvitationToken(secret, '')).toBeNull();
    expect(verifyInvitationToken(secret, 'a.b.c.d')).toBeNull();
  });
});

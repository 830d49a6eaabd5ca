import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { faultyDb, sesEmails, testConfig, testDeps } from '@rapport/testing';
import { getAgency } from '../agency/agency';
import type { Db } from '../db/client';
import { listAllPros } from '../pro/pro';
import type { DeliveryDeps } from '../sending/deliver';
import { consumeSignInToken, isSignInTokenLive, loginChoices, loginHash, readSignUpToken } from './login';
import { listMembers } from './member';
import { completeSignUp, deliverSignUp, renderSignUpEmail, requestSignUp, signUpIds } from './signup';

const config = testConfig();
const deps = testDeps();
const now = new Date();
const deliveryDeps = (db: Db = deps.db): DeliveryDeps => ({ db, mailer: deps.mailer, linkSecret: deps.linkSecret, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => now, retry: { attempts: 1, baseDelayMs: 0 } });

/** Asks for a sign-up and runs its email job; the link's token as the email gives it. */
async function signUpLink(sendsSurveys = true) {
  const email = `founder.${randomUUID().slice(0, 8)}@agency.example`;
  const request = await requestSignUp(deps.db, { agencyName: 'Founders PR', name: 'Fay Founder', email, sendsSurveys }, now);
  expect(await deliverSignUp(deliveryDeps(), { kind: 'sign-up', request })).toBe('sent');
  const [mail, ...more] = await sesEmails({ to: email });
  expect(more).toEqual([]);
  const token = /\/signup\/([A-Za-z0-9_-]{43})\n/.exec(mail!.body.text!)![1]!;
  return { email, request, token, mail: mail! };
}

describe('signing up', () => {
  it('emails a one-time link for the request, and the request only: the job carries its id', async () => {
    const { email, mail, token } = await signUpLink();
    expect(mail.subject).toBe('Create Founders PR on Rapport');
    expect(mail.destination.to).toEqual([`"Fay Founder" <${email}>`]);
    expect(mail.body.text).toContain(`Create Founders PR: http://localhost:3000/signup/${token}\n`);
    expect(mail.body.text).toContain('The link works once, for 15 minutes. Ask for a new one any time at http://localhost:3000/signup');
    // A sign-up link is not a sign-in link, nor the other way round.
    expect(await isSignInTokenLive(deps.db, token, now)).toBe(false);
    expect(await consumeSignInToken(deps.db, token, now)).toBeNull();
    expect(await readSignUpToken(deps.db, token, now)).toMatchObject({ agencyName: 'Founders PR', name: 'Fay Founder', email, sendsSurveys: true });
    // A job whose request is gone (its TTL, or a forged id) sends nothing.
    expect(await deliverSignUp(deliveryDeps(), { kind: 'sign-up', request: 'A'.repeat(22) })).toBe('skipped');
  });

  it('escapes and isolates names in the email', () => {
    const mail = renderSignUpEmail({ signUp: { agencyName: 'Acme \u202eRP <b>', name: '<i>Eve</i>', email: 'e@x.example', sendsSurveys: false }, url: 'https://r.example/signup/t', signUpUrl: 'https://r.example/signup' });
    expect(mail.subject).toBe('Create Acme RP b on Rapport');
    expect(mail.html).not.toContain('<i>Eve</i>');
    expect(mail.html).not.toContain('\u202e');
    expect(mail.text).not.toMatch(/[\u2068\u2069\u202e]/);
  });

  it('creates the agency, its admin and the same person as a pro, signs in as the admin, once', async () => {
    const { email, request, token } = await signUpLink();
    const done = (await completeSignUp(deps.db, token, now))!;
    const ids = signUpIds(request);
    expect(done.identity).toEqual({ kind: 'member', agencyId: ids.agencyId, memberId: ids.memberId });
    expect(await getAgency(deps.db, ids.agencyId)).toMatchObject({ name: 'Founders PR', timezone: 'UTC' });
    expect((await listMembers(deps.db, ids.agencyId)).map((m) => [m.memberId, m.name, m.email, m.role])).toEqual([[ids.memberId, 'Fay Founder', email, 'admin']]);
    expect((await listAllPros(deps.db, ids.agencyId)).map((p) => [p.proId, p.name, p.email])).toEqual([[ids.proId, 'Fay Founder', email]]);
    // One address, two ways in: the sign-in email offers both.
    expect((await loginChoices(deps.db, loginHash(email))).map((c) => c.role).sort()).toEqual(['Admin', 'Pro']);
    // Used: the link does nothing more.
    expect(await completeSignUp(deps.db, token, now)).toBeNull();
    expect(await readSignUpToken(deps.db, token, now)).toBeNull();
  });

  it('without "I send surveys myself", makes no pro; an expired or forged link makes nothing', async () => {
    const { request, token } = await signUpLink(false);
    expect(await completeSignUp(deps.db, token, new Date(now.getTime() + 15 * 60_000))).toBeNull();
    expect(await completeSignUp(deps.db, 'x'.repeat(43), now)).toBeNull();
    await expect(getAgency(deps.db, signUpIds(request).agencyId)).rejects.toThrow('agency not found');
    expect(await completeSignUp(deps.db, token, now)).not.toBeNull();
    expect(await listAllPros(deps.db, signUpIds(request).agencyId)).toEqual([]);
  });

  it('a request that dies between any two writes leaves the link working, and its retry completes the same agency', async () => {
    // The writes: the agency (1), its admin (2), the pro (3), using the link up (4).
    for (const nth of [1, 2, 3, 4]) {
      const { email, request, token } = await signUpLink();
      const faulty = faultyDb(deps.db);
      faulty.failWrite(nth);
      await expect(completeSignUp(faulty.db, token, now), `write ${nth}`).rejects.toThrow('Injected fault');
      const retried = (await completeSignUp(deps.db, token, now))!;
      const { agencyId, memberId, proId } = signUpIds(request);
      expect(retried.identity, `write ${nth}`).toEqual({ kind: 'member', agencyId, memberId });
      expect((await listMembers(deps.db, agencyId)).map((m) => m.memberId)).toEqual([memberId]);
      expect((await listAllPros(deps.db, agencyId)).map((p) => p.proId)).toEqual([proId]);
      // One agency for the address, whatever failed.
      expect(new Set((await loginChoices(deps.db, loginHash(email))).map((c) => c.identity.agencyId))).toEqual(new Set([agencyId]));
    }
  });

  it('two links of one request (a repeated email job) make one agency between them', async () => {
    const { email, request, token } = await signUpLink();
    expect(await deliverSignUp(deliveryDeps(), { kind: 'sign-up', request })).toBe('sent');
    const second = /\/signup\/([A-Za-z0-9_-]{43})\n/.exec((await sesEmails({ to: email }))[1]!.body.text!)![1]!;
    expect(second).not.toBe(token);
    const [a, b] = await Promise.all([completeSignUp(deps.db, token, now), completeSignUp(deps.db, second, now)]);
    expect(a!.agency.agencyId).toBe(b!.agency.agencyId);
    expect(await listMembers(deps.db, a!.agency.agencyId)).toHaveLength(1);
  });
});

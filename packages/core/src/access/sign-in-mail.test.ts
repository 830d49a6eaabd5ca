import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordingSesMailer, headerLines, rawTo, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { MailerError, type Mailer } from '../email/mailer';
import type { DeliveryDeps } from '../sending/deliver';
import type { SendJob } from '../sending/queue';
import { createMember } from './member';
import { loginHash } from './login';
import { deliverSignIn, renderSignInEmail } from './sign-in-mail';

const config = testConfig();
const { db, linkSecret } = testDeps();
const deliveryDeps = (mailer: Mailer, extra: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  db,
  mailer,
  linkSecret,
  publicUrl: config.publicUrl,
  mailFrom: config.mailFrom,
  now: () => new Date(),
  retry: { attempts: 1, baseDelayMs: 0 },
  ...extra,
});
const choice = (name: string, agencyName: string, role = 'Pro') => ({ identity: { kind: 'pro' as const, agencyId: 'ag_1', proId: 'pro_1' }, email: 'a@b.example', name, agencyName, role });

describe('the sign-in email', () => {
  it('escapes and isolates names, one button per identity, and names the inviter', () => {
    const mail = renderSignInEmail({
      links: [
        { choice: choice('<b>Eve</b>', 'Acme \u202eRP'), url: 'https://rapport.example/login/t1' },
        { choice: choice('<b>Eve</b>', 'Beta & Co', 'Lead'), url: 'https://rapport.example/login/t2' },
      ],
      signInUrl: 'https://rapport.example/login',
      invite: { by: 'Bea\nBcc: x@evil.example', agencyName: 'Acme \u202eRP' },
    });
    expect(mail.subject).toBe('Bea Bcc: invited you to Acme RP on Rapport');
    expect(mail.html).not.toContain('<b>Eve</b>');
    expect(mail.html).toContain('&lt;b&gt;Eve&lt;/b&gt;');
    expect(mail.html).not.toContain('\u202e');
    expect(mail.html).toContain('href="https://rapport.example/login/t2"');
    expect(mail.text).toContain('Sign in to Beta & Co as lead: https://rapport.example/login/t2');
    expect(mail.text).toContain('Each link works once, for 15 minutes. Ask for a new one any time at https://rapport.example/login');
    expect(mail.text).not.toMatch(/[\u2068\u2069\u202e]/);
  });

  it('is sent only to an address that may sign in, with no List-Unsubscribe', async () => {
    const { mailer, sent, destroy } = recordingSesMailer();
    try {
      const agency = await createAgency(db, { name: 'Mail PR' }, new Date());
      const email = `mail.${randomUUID().slice(0, 8)}@example.com`;
      await createMember(db, agency.agencyId, { name: 'Mo Member', email, role: 'lead' }, new Date());
      expect(await deliverSignIn(deliveryDeps(mailer), { kind: 'sign-in', login: loginHash(email) })).toBe('sent');
      expect(await deliverSignIn(deliveryDeps(mailer), { kind: 'sign-in', login: loginHash(`nobody.${email}`) })).toBe('skipped');
      const [raw, ...more] = rawTo(sent, email);
      expect(more).toEqual([]);
      const headers = headerLines(raw!);
      expect(headers.find((h) => /^subject:/i.test(h))).toBe('Subject: Your Rapport sign-in link');
      expect(headers.filter((h) => /^list-unsubscribe/i.test(h))).toEqual([]);
    } finally {
      destroy();
    }
  });

  it('stub: a send SES refuses for now is queued again up to 3 times, then given up', async () => {
    const agency = await createAgency(db, { name: 'Throttled PR' }, new Date());
    const email = `throttled.${randomUUID().slice(0, 8)}@example.com`;
    await createMember(db, agency.agencyId, { name: 'Tess', email, role: 'lead' }, new Date());
    const throttled: Mailer = { send: async () => Promise.reject(new MailerError('Rate exceeded', 'Throttling', true, undefined, true)) };
    const requeued: SendJob[] = [];
    const warned: string[] = [];
    const deps = deliveryDeps(throttled, { requeue: async (job) => void requeued.push(job), warn: (message) => void warned.push(message) });
    let job: SendJob & { kind: 'sign-in' } = { kind: 'sign-in', login: loginHash(email) };
    for (const retries of [1, 2, 3]) {
      expect(await deliverSignIn(deps, job)).toBe('retry');
      expect(requeued.at(-1)).toEqual({ ...job, retries });
      job = requeued.at(-1) as typeof job;
    }
    expect(await deliverSignIn(deps, job)).toBe('failed');
    expect(warned).toEqual(['sign-in email not sent']);
  });
});

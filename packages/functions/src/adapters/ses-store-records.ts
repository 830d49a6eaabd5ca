import type { InvitationRef, SendRecords } from '@rapport/core';
import { REMINDER_PREFIX } from '@rapport/core/email/invitation';
import { signInvitationToken } from '@rapport/core/survey/token';
import * as v from 'valibot';

const StoreSchema = v.object({ emails: v.array(v.looseObject({ messageId: v.string(), at: v.number(), subject: v.string(), body: v.looseObject({ text: v.optional(v.string()) }) })) });

/**
 * The local adapter of `SendRecords`: the local SES server's store (`GET /store`) is the record
 * of what SES accepted. The server keeps neither tags nor headers of a raw email, so an invitation
 * is recognised by its own survey link in the text (only its email carries that signed token), and
 * a warning or a summary by the reference line its text ends with (`withMailRef`).
 */
export function sesStoreRecords(sesEndpoint: string, linkSecret: string): SendRecords {
  const fetchStore = async () => {
    const response = await fetch(new URL('/store', sesEndpoint));
    if (!response.ok) throw new Error(`The local SES server answered ${response.status} to GET /store`);
    return v.parse(StoreSchema, await response.json()).emails;
  };
  // The whole store comes in one answer: a caller that can take a slightly old view (the worker,
  // for every invitation queued again) shares one read a second; the sweep always reads afresh.
  let cached: { at: number; emails: ReturnType<typeof fetchStore> } | undefined;
  const stored = (maxAgeMs = 0) => {
    if (maxAgeMs > 0 && cached && Date.now() - cached.at <= maxAgeMs) return cached.emails;
    const emails = fetchStore();
    cached = { at: Date.now(), emails };
    emails.catch(() => (cached = undefined));
    return emails;
  };
  const storedTexts = async () => (await stored()).map((e) => e.body.text ?? '');
  /** The stored emails carrying each invitation's link, oldest first. */
  const emailsOf = async (refs: readonly InvitationRef[], maxAgeMs?: number) => {
    const oldestFirst = [...(await stored(maxAgeMs))].sort((a, b) => a.at - b.at);
    return refs.map((ref) => {
      const link = `/s/${signInvitationToken(linkSecret, ref)}`;
      return oldestFirst.filter((e) => e.body.text?.includes(link));
    });
  };
  return {
    async firstEmails(refs, { maxAgeMs } = {}) {
      const found = new Map<string, string>();
      for (const [i, emails] of (await emailsOf(refs, maxAgeMs)).entries()) {
        if (emails[0]) found.set(refs[i]!.invitationId, emails[0].messageId);
      }
      return found;
    },
    async mails(refs) {
      const texts = await storedTexts();
      return new Set(refs.filter((ref) => texts.some((text) => text.includes(`\nRef. ${ref}`))));
    },
    // A reminder is told from the first email by its subject; the n-th was taken once n are stored.
    async reminders(refs) {
      const found = new Set<string>();
      for (const [i, emails] of (await emailsOf(refs)).entries()) {
        if (emails.filter((e) => e.subject.startsWith(REMINDER_PREFIX)).length >= refs[i]!.reminder) found.add(refs[i]!.invitationId);
      }
      return found;
    },
  };
}

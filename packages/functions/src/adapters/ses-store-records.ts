import { REMINDER_PREFIX, signInvitationToken, type InvitationRef, type SendRecords } from '@rapport/core';
import * as v from 'valibot';

const StoreSchema = v.object({ emails: v.array(v.looseObject({ messageId: v.string(), at: v.number(), subject: v.string(), body: v.looseObject({ text: v.optional(v.string()) }) })) });

/**
 * The local adapter of `SendRecords`: the local SES server's store (`GET /store`) is the record
 * of what SES accepted. The server keeps neither tags nor headers of a raw email, so an invitation
 * is recognised by its own survey link in the text (only its email carries that signed token), and
 * a warning or a summary by the reference line its text ends with (`withMailRef`).
 */
export function sesStoreRecords(sesEndpoint: string, linkSecret: string): SendRecords {
  const stored = async () => {
    const response = await fetch(new URL('/store', sesEndpoint));
    if (!response.ok) throw new Error(`The local SES server answered ${response.status} to GET /store`);
    return v.parse(StoreSchema, await response.json()).emails;
  };
  const storedTexts = async () => (await stored()).map((e) => e.body.text ?? '');
  /** The stored emails carrying each invitation's link, oldest first. */
  const emailsOf = async (refs: readonly InvitationRef[]) => {
    const oldestFirst = [...(await stored())].sort((a, b) => a.at - b.at);
    return refs.map((ref) => {
      const link = `/s/${signInvitationToken(linkSecret, ref)}`;
      return oldestFirst.filter((e) => e.body.text?.includes(link));
    });
  };
  return {
    async firstEmails(refs) {
      const found = new Map<string, string>();
      for (const [i, emails] of (await emailsOf(refs)).entries()) {
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

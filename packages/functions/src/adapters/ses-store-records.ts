import { signInvitationToken, type SendRecords } from '@rapport/core';
import * as v from 'valibot';

const StoreSchema = v.object({ emails: v.array(v.looseObject({ messageId: v.string(), at: v.number(), body: v.looseObject({ text: v.optional(v.string()) }) })) });

/**
 * The local adapter of `SendRecords`: the local SES server's store (`GET /store`) is the record
 * of what SES accepted. The server keeps neither tags nor headers of a raw email, so an invitation
 * is recognised by its own survey link in the text: only its email carries that signed token.
 */
export function sesStoreRecords(sesEndpoint: string, linkSecret: string): SendRecords {
  return {
    async firstEmails(refs) {
      const response = await fetch(new URL('/store', sesEndpoint));
      if (!response.ok) throw new Error(`The local SES server answered ${response.status} to GET /store`);
      const { emails } = v.parse(StoreSchema, await response.json());
      const oldestFirst = [...emails].sort((a, b) => a.at - b.at);
      const found = new Map<string, string>();
      for (const ref of refs) {
        const link = `/s/${signInvitationToken(linkSecret, ref)}`;
        const email = oldestFirst.find((e) => e.body.text?.includes(link));
        if (email) found.set(ref.invitationId, email.messageId);
      }
      return found;
    },
  };
}

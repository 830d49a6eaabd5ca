import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { batchGet } from '../db/batch';
import { isConditionFailed } from '../db/conditions';
import type { InvitationRef } from '../survey/token';

/**
 * SES's own record of the first emails it accepted: what settles a send whose worker died between
 * handing the email to SES and writing down the answer (or whose SES call ended in a timeout).
 * With a record, the email went out and the invitation is `sent`; without one, SES never took it
 * and sending again sends it once. Two adapters: on AWS the configuration set's `Send` events,
 * kept in the table (`recordSendEvent`, `recordedSends`); locally the SES server's store.
 */
export interface SendRecords {
  /**
   * The SES message id of each invitation's first email that SES accepted, by invitation id.
   * `maxAgeMs`: a view up to that old will do (an adapter may share one read between callers).
   */
  firstEmails(refs: readonly InvitationRef[], options?: { maxAgeMs?: number }): Promise<Map<string, string>>;
  /** The invitations whose `reminder`-th reminder SES accepted. */
  reminders(refs: readonly (InvitationRef & { reminder: number })[]): Promise<Set<string>>;
  /** Of these claimed emails (early warnings, summaries: see `mailClaim`), the references SES accepted. */
  mails(refs: readonly string[]): Promise<Set<string>>;
}

/**
 * The SES message tags every survey email carries, so SES's events (its `Send` record, a bounce, a
 * complaint) name the invitation, its agency, and which reminder.
 */
export const invitationTags = (ref: InvitationRef & { agencyId: string }, email: { kind: 'invitation' } | { kind: 'reminder'; reminder: number }) => ({
  agency: ref.agencyId,
  round: ref.roundId,
  invitation: ref.invitationId,
  kind: email.kind,
  ...(email.kind === 'reminder' ? { reminder: String(email.reminder) } : {}),
});

/**
 * Keeps SES's `Send` event of an invitation's first email or of one of its reminders (tags
 * `invitation`, `round`, `kind`, `reminder`), unless the worker has written that email's message
 * id on the invitation already: then the send is settled, no sweep will ask, and the record would
 * be a write for nothing (it is one of every email's few writes; the read costs a tenth of it).
 * The first event kept wins: SNS may deliver one twice.
 */
export async function recordSendEvent(db: Db, event: { messageId: string; at: string; tags: Record<string, readonly string[]> }): Promise<boolean> {
  const [roundId] = event.tags.round ?? [];
  const [invitationId] = event.tags.invitation ?? [];
  const [kind] = event.tags.kind ?? [];
  const reminder = Number(event.tags.reminder?.[0]);
  const [mail] = event.tags.mail ?? [];
  const key =
    kind === 'mail' && mail
      ? keys.mailSendRecord(mail)
      : !roundId || !invitationId
        ? null
        : kind === 'invitation'
          ? keys.sendRecord(invitationId)
          : kind === 'reminder' && Number.isInteger(reminder) && reminder > 0
            ? keys.reminderSendRecord(invitationId, reminder)
            : null;
  if (!key) return false;
  if ((kind === 'invitation' || kind === 'reminder') && (await settledByWorker(db, roundId!, invitationId!, kind, event.messageId))) return false;
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...key, type: 'sendRecord', ...(roundId ? { roundId } : {}), ...(invitationId ? { invitationId } : {}), ...(mail ? { mailRef: mail } : {}), messageId: event.messageId, at: event.at },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/**
 * Whether the invitation holds this email's message id: the first email's `messageId`, the last
 * reminder's `reminderMessageId`, each written with the send's outcome. Eventually consistent: a
 * stale read shows an older state, without the id, and the record is kept, as it would have been.
 */
async function settledByWorker(db: Db, roundId: string, invitationId: string, kind: 'invitation' | 'reminder', messageId: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(roundId, invitationId), ProjectionExpression: 'messageId, reminderMessageId' }));
  return (kind === 'invitation' ? Item?.messageId : Item?.reminderMessageId) === messageId;
}

/** The AWS adapter: the `Send` events `recordSendEvent` kept. */
export function recordedSends(db: Db): SendRecords {
  return {
    async firstEmails(refs) {
      const found = await batchGet(db, refs.map((r) => keys.sendRecord(r.invitationId)));
      return new Map([...found.values()].map((item) => [item.invitationId as string, item.messageId as string]));
    },
    async reminders(refs) {
      const found = await batchGet(db, refs.map((r) => keys.reminderSendRecord(r.invitationId, r.reminder)));
      return new Set([...found.values()].map((item) => item.invitationId as string));
    },
    async mails(refs) {
      const found = await batchGet(db, refs.map((ref) => keys.mailSendRecord(ref)));
      return new Set([...found.values()].map((item) => item.mailRef as string));
    },
  };
}

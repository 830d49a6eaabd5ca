/**
 * Key shapes of the single table. Every request path uses only the access patterns below:
 * a GetItem, a TransactWrite over known keys, or a Query on one partition. No Scan.
 *
 * | # | access pattern                         | operation                                                 |
 * |---|----------------------------------------|-----------------------------------------------------------|
 * | 1 | authenticate an API key                | Get  PK=KEY#<sha256(secret)> SK=KEY                       |
 * | 2 | read / update an agency                | Get/Update PK=AG#<a> SK=AG                                |
 * | 3 | list an agency's API keys              | Query PK=AG#<a> SK begins_with KEY#                       |
 * | 4 | get / list / update pros               | Get PK=AG#<a> SK=PRO#<p>; Query SK begins_with PRO#       |
 * | 5 | keep a pro's email unique in an agency | Put PK=AG#<a> SK=PROEMAIL#<email> (condition: absent)     |
 * | 6 | get / list an agency's campaigns       | Get PK=AG#<a> SK=CMP#<c>; Query SK begins_with CMP#       |
 * | 7 | list a pro's campaigns                 | Query GSI1 GSI1PK=AG#<a>#PRO#<p> GSI1SK begins_with CMP#  |
 * | 8 | replay an idempotent POST              | Get/Put PK=IDEM#<a>#<sha256(key)> SK=IDEM (TTL)           |
 * | 9 | a round and its invitations            | Get PK=RND#<r> SK=RND; Get SK=INV#<i>; Query SK begins_with INV# |
 * | 10| may this address be surveyed?          | BatchGet SUP#<h>/SUP (global), SUP#<h>/AG#<a>, AG#<a>#RCP#<h>/RCP |
 * | 11| one response per invitation            | Put PK=RND#<r> SK=RSP#<i>                                  |
 * | 12| the invitation an SES message was      | Get PK=MSG#<ses message id> SK=MSG                         |
 * | 13| reminders due by now                   | Query GSI1 GSI1PK=DUE#REMINDER#<0..3> GSI1SK < <now>       |
 * | 14| rounds due to close by now             | Query GSI1 GSI1PK=DUE#CLOSE GSI1SK < <now>                 |
 *
 * 13 and 14 are sparse: an invitation is in the index only while a reminder is due (a response,
 * the last reminder or the round's close removes it), a round only until it is closed. Reminders
 * spread over four partitions so a busy sending hour does not write one index partition hot.
 *
 * `<h>` is the SHA-256 of the lower-cased address: suppression and throttling never need the
 * address itself as a key.
 */
export const ROUND_CLOSE_PARTITION = 'DUE#CLOSE';

export const keys = {
  apiKeyLookup: (secretHash: string) => ({ PK: `KEY#${secretHash}`, SK: 'KEY' }),
  agency: (agencyId: string) => ({ PK: `AG#${agencyId}`, SK: 'AG' }),
  apiKey: (agencyId: string, keyId: string) => ({ PK: `AG#${agencyId}`, SK: `KEY#${keyId}` }),
  pro: (agencyId: string, proId: string) => ({ PK: `AG#${agencyId}`, SK: `PRO#${proId}` }),
  proEmail: (agencyId: string, email: string) => ({ PK: `AG#${agencyId}`, SK: `PROEMAIL#${email.toLowerCase()}` }),
  campaign: (agencyId: string, campaignId: string) => ({ PK: `AG#${agencyId}`, SK: `CMP#${campaignId}` }),
  campaignByPro: (agencyId: string, proId: string, campaignId: string) => ({
    GSI1PK: `AG#${agencyId}#PRO#${proId}`,
    GSI1SK: `CMP#${campaignId}`,
  }),
  idempotency: (agencyId: string, keyHash: string) => ({ PK: `IDEM#${agencyId}#${keyHash}`, SK: 'IDEM' }),
  round: (roundId: string) => ({ PK: `RND#${roundId}`, SK: 'RND' }),
  invitation: (roundId: string, invitationId: string) => ({ PK: `RND#${roundId}`, SK: `INV#${invitationId}` }),
  response: (roundId: string, invitationId: string) => ({ PK: `RND#${roundId}`, SK: `RSP#${invitationId}` }),
  recipientState: (agencyId: string, addressHash: string) => ({ PK: `AG#${agencyId}#RCP#${addressHash}`, SK: 'RCP' }),
  globalSuppression: (addressHash: string) => ({ PK: `SUP#${addressHash}`, SK: 'SUP' }),
  agencySuppression: (addressHash: string, agencyId: string) => ({ PK: `SUP#${addressHash}`, SK: `AG#${agencyId}` }),
  sesMessage: (messageId: string) => ({ PK: `MSG#${messageId}`, SK: 'MSG' }),
  reminderDue: (roundId: string, invitationId: string, dueAt: string) => ({
    GSI1PK: reminderPartition(invitationId),
    GSI1SK: `${dueAt}#${roundId}#${invitationId}`,
  }),
  roundCloseDue: (roundId: string, closesAt: string) => ({ GSI1PK: ROUND_CLOSE_PARTITION, GSI1SK: `${closesAt}#${roundId}` }),
} as const;

export const REMINDER_PARTITIONS = Array.from({ length: 4 }, (_, shard) => `DUE#REMINDER#${shard}`);

/** ULIDs end in 80 random bits, so the last character spreads invitations evenly. */
function reminderPartition(invitationId: string): string {
  return REMINDER_PARTITIONS[invitationId.charCodeAt(invitationId.length - 1) % REMINDER_PARTITIONS.length]!;
}

/** Attributes that are keys, not data: stripped before an item becomes a domain object. */
export const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'expiresAt', 'type'] as const;

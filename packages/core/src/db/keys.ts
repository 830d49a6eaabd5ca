import type { Identity } from '../access/session';
import { tableDefinition } from './table-definition';

/**
 * Key shapes of the single table. Every request path uses only the access patterns below:
 * a GetItem, a TransactWrite over known keys, or a Query on one partition. No Scan.
 *
 * | # | access pattern                         | operation                                                 |
 * |---|----------------------------------------|-----------------------------------------------------------|
 * | 1 | authenticate an API key                | Get  PK=KEY#<sha256(secret)> SK=KEY                       |
 * | 1b| count requests in a fixed window        | Update PK=RL#<kind>#<id>#<window start> SK=RL (ADD, conditional; TTL) |
 * | 2 | read / update an agency                | Get/Update PK=AG#<a> SK=AG                                |
 * | 3 | list an agency's API keys              | Query PK=AG#<a> SK begins_with KEY#                       |
 * | 4 | get / list / update pros               | Get PK=AG#<a> SK=PRO#<p>; Query SK begins_with PRO#       |
 * | 5 | keep a pro's email unique in an agency | Put PK=AG#<a> SK=PROEMAIL#<email> (condition: absent)     |
 * | 6 | get / list an agency's campaigns       | Get PK=AG#<a> SK=CMP#<c>; Query SK begins_with CMP#       |
 * | 7 | list a pro's campaigns                 | Query GSI1 GSI1PK=AG#<a>#PRO#<p> GSI1SK begins_with CMP#  |
 * | 8 | replay an idempotent POST              | Get/Put PK=IDEM#<a>#<sha256(key)> SK=IDEM (TTL)           |
 * | 9 | a round and its invitations            | Get PK=RND#<r> SK=RND; Get SK=INV#<i>; Query SK begins_with INV# |
 * | 9b| a round's skipped recipients, in order | Query PK=RND#<r> SK begins_with SKP# (SK=SKP#<index, 4 digits>) |
 * | 9c| a round's counts (tallied when read)   | Query PK=RND#<r> SK begins_with INV#, projected to status, answeredFrom (no counter on RND) |
 * | 9d| an invitation an erasure moved to a random id | Get PK=RND#<r> SK=GONE#<i> (the id it had; holds nothing else) |
 * | 10| may this address be surveyed?          | BatchGet SUP#<h>/SUP (global), SUP#<h>/AG#<a>, SUP#<h>/RCP#<a> (one partition) |
 * | 10b| an agency's suppressions, by address   | Query PK=AG#<a> SK begins_with SUP# (written with the suppression) |
 * | 10c| the agencies that surveyed an address  | Query PK=SUP#<h> SK begins_with RCP# (their recipient states, 45: written before the agency's first invitation of it) |
 * | 11| one response per invitation            | Put PK=RND#<r> SK=RSP#<i>; Query SK begins_with RSP# (release) |
 * | 11b| one early warning per response        | Put PK=RND#<r> SK=WRN#<i>[#<revision>] (condition: absent) |
 * | 11c| an early warning due (with the answer) | Put PK=RND#<r> SK=WDUE#<i>#<revision>; leased in 29     |
 * | 12| the invitation an SES message was      | Get PK=MSG#<ses message id> SK=MSG                         |
 * | 13| rounds with sends or reminders to look at by now | Query GSI1 GSI1PK=DUE#WORK#<0..3> GSI1SK < <now> (the round's WORK item), then its invitations (9) |
 * | 14| rounds due to close by now             | Query GSI1 GSI1PK=DUE#CLOSE GSI1SK < <now>                 |
 * | 15| scores of a pro, by month and audience  | Query PK=AG#<a>#PRO#<p>#AGG SK between <from> and <to>~    |
 * | 15b| a page of an agency's pros' scores     | Query GSI2 GSI2PK=AG#<a>#SCORES GSI2SK > <cursor> (the pro counters of 15) |
 * | 15c| an agency's open rounds (deliveries tallied, not yet in 15–17) | Query PK=AG#<a>#OPEN (SK=<r>: pro, campaign, period; put with the round, deleted by the close's fold) |
 * | 16| scores of a campaign, by audience       | Query PK=AG#<a>#CMP#<c>#AGG                                |
 * | 17| scores of an agency, by month, audience | Query PK=AG#<a>#AGG SK between <from> and <to>~            |
 * | 18| an agency's released rows by release    | Query GSI1 GSI1PK=AG#<a>#RSP GSI1SK between <since> and <until> |
 * | 19| a pro's released rows by release        | Query GSI2 GSI2PK=AG#<a>#PRO#<p>#RSP GSI2SK between …      |
 * | 20| an agency's testimonials by release     | Query PK=AG#<a>#TST                                        |
 * | 21| a pro's commitments                     | Query PK=AG#<a> SK begins_with CMT#<p>#                    |
 * | 22| a summary sent, once per pro and period | Put PK=AG#<a>#PRO#<p>#SUM SK=<period> (condition: absent)  |
 * | 22b| a pro's emailed summaries (console)    | Query PK=AG#<a>#PRO#<p>#SUM, newest first (status = sent)  |
 * | 23| every agency (a summary forced by hand, one-off jobs) | Query GSI1 GSI1PK=AGENCIES                   |
 * | 23b| agencies whose summary slot has passed (the hourly summary job) | Query GSI2 GSI2PK=DUE#SUMMARY GSI2SK < <now>~ (the agency item itself, GSI2SK=<next look>#<a>) |
 * | 24| a campaign's rounds, newest last        | Query GSI2 GSI2PK=AG#<a>#CMP#<c>#RND                       |
 * | 25| release a batch, exactly once           | Put PK=BAT#<batch> SK=BAT (condition: absent)              |
 * | 26| a pro's batches by release time         | Query GSI1 GSI1PK=AG#<a>#PRO#<p>#BAT GSI1SK between …      |
 * | 27| a pro × audience pool of small groups   | Get/Update PK=AG#<a>#PRO#<p>#POOL SK=<audience>            |
 * | 28| batches whose rows are still being marked | Query GSI2 GSI2PK=DUE#ROWS                               |
 * | 29| warnings and summaries whose lease ran out (lost or cut off) | Query GSI1 GSI1PK=DUE#LEASE#<0..3> GSI1SK < <now> |
 * | 30| SES's record of an invitation's emails  | Put/BatchGet PK=SENT#<i> SK=SENT (first), R#<n> (reminders) |
 * | 31| SES's record of a warning or summary    | Put/BatchGet PK=SENT#MAIL#<ref> SK=SENT                    |
 * | 32| an agency admin's mail preference       | Get/Put/Delete PK=AG#<a> SK=ADMIN#<h>                      |
 * | 33| get / list an agency's members          | Get PK=AG#<a> SK=MBR#<m>; Query SK begins_with MBR#        |
 * | 34| keep a member's email unique in an agency | Put PK=AG#<a> SK=MBREMAIL#<email> (condition: absent)    |
 * | 35| a console session                       | Get/Put/Delete PK=SES#<sha256(session id)> SK=SES (TTL)    |
 * | 36| when a person last signed out everywhere | Get/Put PK=AG#<a> SK=SIGNOUT#<pro or member id>           |
 * | 37| get / list an agency's webhook endpoints | Get PK=AG#<a> SK=HOOK#<w>; Query SK begins_with HOOK#    |
 * | 37b| an agency's deleted endpoints (erasure) | Query PK=AG#<a> SK begins_with HOOKGONE# (written with the delete; TTL: the log's) |
 * | 38| an endpoint's deliveries, newest first  | Get PK=HOOK#<w> SK=DLV#<d>; Query SK begins_with DLV# (descending) |
 * | 39| an event to fan out (outbox)            | Put PK=EVT#<event> SK=EVT, with the domain write           |
 * | 40| webhook events and deliveries due by now | Query GSI1 GSI1PK=DUE#HOOK#<0..3> GSI1SK < <now>          |
 * | 41| who may sign in with an address, across agencies | Query PK=LOGIN#<h> (SK=PRO#<a>#<p> or MBR#<a>#<m>; written with the email claim 5/34) |
 * | 42| a sign-in link, used once               | Put/Get/Delete (conditional) PK=SIGNIN#<sha256(token)> SK=SIGNIN (TTL) |
 * | 43| an agency's count of active admins      | Update PK=AG#<a> SK=MBRADMINS (conditional: never below 1) |
 * | 44| a sign-up asked for, until its email goes | Put/Get PK=SIGNUP#<random id> SK=SIGNUP (TTL)             |
 * | 45| every round of an address in an agency  | Get SUP#<h>/RCP#<a> (the agency's recipient state: throttle dates, named answers, the last reservation `heldBy`/`heldAt`/`heldBefore`): its `rounds` set (ADDed with each reservation or skipped record, before the invitation or record); the invitation is INV#<hashedId(round, h)> (until an erasure moves it: 9d); a suppression skips the pending ones |
 * | 46| an agency's rounds by creation (retention) | Query PK=AG#<a>#RNDS SK < <cutoff> (SK=<createdAt>#<r>, written with the round) |
 * | 47| get / list an agency's erasures         | Get/Put PK=AG#<a> SK=ERA#<e>; Query SK begins_with ERA#   |
 * | 48| agencies whose retention pass is due    | Query GSI1 GSI1PK=DUE#RETENTION GSI1SK < <now> (the agency's RETENTION item, with its cursors) |
 * | 49| an agency's stored idempotent answers (erasure) | Query GSI1 GSI1PK=AG#<a>#IDEM (the IDEM items of 8; TTL 24 h) |
 * | 50| the account's SES sending slots (sender Lambdas) | Update PK=SLOTS#SES SK=SLOTS (conditional ADD or SET of `nextSlotAt`, a block of slots a call) |
 *
 * 23b, like 13, 14, 29, 40 and 48, holds only what is due or will be: an agency leaves it for its
 * next slot once its run of the period is complete, so an idle hourly run is one query that reads nothing.
 *
 * 13, 14 and 29 are sparse. No invitation is in any index: each sends, records and reminds with
 * attribute-only writes (1 WRU each), and its next look (`checkAt`: a lease's end, a reminder's due
 * time) is an attribute. What is due is found per round instead: the round's WORK item sits in 13
 * at the earliest time one of its invitations may need a look, and the look reads the round's
 * invitations (`checkRounds`); a round leaves 13 once none has a `checkAt`. 14 holds a round until
 * it is closed. 13 and 29 spread over four partitions so a busy hour does not write one hot.
 *
 * 15–17 are counters (n, Σx, Σx², histogram per item) that releasing a batch updates, so
 * reading a year of scores reads at most 36 small items however many responses there are. 15b
 * indexes the same pro counter items (`PRO#<p>#<YYYY-MM>#<audience>`), so one query on one index
 * partition pages through the agency's pros, each with its months side by side.
 * 18–20 hold released rows only, ordered by release, then batch, then a random key: never by when
 * anyone answered.
 *
 * `<h>` is the SHA-256 of the lower-cased address: suppression and throttling never need the
 * address itself as a key. Only an agency's list of its suppressions (10b) holds addresses, which
 * are of people the agency surveyed itself.
 */
/**
 * What a rate window counts: an API key's requests (`KEY`, its key id), a client address's page
 * requests (`ADDR`) and failed API keys (`AUTHFAIL`), a link's requests (`LINK`). Addresses and links
 * are keyed by a keyed hash, so the table holds neither a client's address nor which invitation was opened.
 * Sign-in requests count per client address (`SIGNIN`) and per email address asked for (`LOGIN`, a keyed hash of it).
 */
export interface RateSubject {
  kind: 'KEY' | 'ADDR' | 'LINK' | 'AUTHFAIL' | 'SIGNIN' | 'LOGIN';
  id: string;
}

export const ROUND_CLOSE_PARTITION = 'DUE#CLOSE';
export const ROWS_DUE_PARTITION = 'DUE#ROWS';
export const AGENCIES_PARTITION = 'AGENCIES';
export const RETENTION_DUE_PARTITION = 'DUE#RETENTION';
export const SUMMARY_DUE_PARTITION = 'DUE#SUMMARY';

export const keys = {
  apiKeyLookup: (secretHash: string) => ({ PK: `KEY#${secretHash}`, SK: 'KEY' }),
  rateWindow: ({ kind, id }: RateSubject, windowStart: number) => ({ PK: `RL#${kind}#${id}#${windowStart}`, SK: 'RL' }),
  agency: (agencyId: string) => ({ PK: `AG#${agencyId}`, SK: 'AG' }),
  apiKey: (agencyId: string, keyId: string) => ({ PK: `AG#${agencyId}`, SK: `KEY#${keyId}` }),
  pro: (agencyId: string, proId: string) => ({ PK: `AG#${agencyId}`, SK: `PRO#${proId}` }),
  /** An admin address's mail preference (the agency summary stopped); absent while it is wanted. */
  adminMail: (agencyId: string, adminHash: string) => ({ PK: `AG#${agencyId}`, SK: `ADMIN#${adminHash}` }),
  member: (agencyId: string, memberId: string) => ({ PK: `AG#${agencyId}`, SK: `MBR#${memberId}` }),
  memberEmail: (agencyId: string, email: string) => ({ PK: `AG#${agencyId}`, SK: `MBREMAIL#${email.toLowerCase()}` }),
  session: (sessionHash: string) => ({ PK: `SES#${sessionHash}`, SK: 'SES' }),
  signedOut: (agencyId: string, personId: string) => ({ PK: `AG#${agencyId}`, SK: `SIGNOUT#${personId}` }),
  loginPartition: (login: string) => `LOGIN#${login}`,
  login: (login: string, identity: Identity) => ({
    PK: `LOGIN#${login}`,
    SK: identity.kind === 'pro' ? `PRO#${identity.agencyId}#${identity.proId}` : `MBR#${identity.agencyId}#${identity.memberId}`,
  }),
  signInToken: (tokenHash: string) => ({ PK: `SIGNIN#${tokenHash}`, SK: 'SIGNIN' }),
  signUpRequest: (requestId: string) => ({ PK: `SIGNUP#${requestId}`, SK: 'SIGNUP' }),
  memberAdmins: (agencyId: string) => ({ PK: `AG#${agencyId}`, SK: 'MBRADMINS' }),
  proEmail: (agencyId: string, email: string) => ({ PK: `AG#${agencyId}`, SK: `PROEMAIL#${email.toLowerCase()}` }),
  campaign: (agencyId: string, campaignId: string) => ({ PK: `AG#${agencyId}`, SK: `CMP#${campaignId}` }),
  campaignByPro: (agencyId: string, proId: string, campaignId: string) => ({
    GSI1PK: `AG#${agencyId}#PRO#${proId}`,
    GSI1SK: `CMP#${campaignId}`,
  }),
  idempotency: (agencyId: string, keyHash: string) => ({ PK: `IDEM#${agencyId}#${keyHash}`, SK: 'IDEM' }),
  /** The agency's stored answers, so an erasure can find the ones that quote an address (48). */
  idempotencyByAgency: (agencyId: string, keyHash: string) => ({ GSI1PK: `AG#${agencyId}#IDEM`, GSI1SK: keyHash }),
  /** An agency's rounds by creation (45): the retention pass walks the old ones. */
  agencyRound: (agencyId: string, createdAt: string, roundId: string) => ({ PK: `AG#${agencyId}#RNDS`, SK: `${createdAt}#${roundId}` }),
  erasure: (agencyId: string, erasureId: string) => ({ PK: `AG#${agencyId}`, SK: `ERA#${erasureId}` }),
  /** An agency's retention pass: its cursors, and (while a limit is set) when it is next due (47). */
  retention: (agencyId: string) => ({ PK: `AG#${agencyId}`, SK: 'RETENTION' }),
  retentionDue: (agencyId: string, at: string) => ({ GSI1PK: RETENTION_DUE_PARTITION, GSI1SK: `${at}#${agencyId}` }),
  round: (roundId: string) => ({ PK: `RND#${roundId}`, SK: 'RND' }),
  invitation: (roundId: string, invitationId: string) => ({ PK: `RND#${roundId}`, SK: `INV#${invitationId}` }),
  skippedRecipient: (roundId: string, index: number) => ({ PK: `RND#${roundId}`, SK: `SKP#${String(index).padStart(4, '0')}` }),
  response: (roundId: string, invitationId: string) => ({ PK: `RND#${roundId}`, SK: `RSP#${invitationId}` }),
  /** Where an erasure moved an invitation off (9d): a job still naming it has nothing to send. */
  movedInvitation: (roundId: string, invitationId: string) => ({ PK: `RND#${roundId}`, SK: `GONE#${invitationId}` }),
  /** One per response on named rounds; one per low submission (`revision`) on anonymous ones. */
  earlyWarning: (roundId: string, invitationId: string, revision?: number) => ({ PK: `RND#${roundId}`, SK: `WRN#${invitationId}${revision === undefined ? '' : `#${revision}`}` }),
  /** An agency's state of an address (45), beside the address's suppressions: a global one finds the agencies that surveyed it (10c) by it. */
  recipientState: (agencyId: string, addressHash: string) => ({ PK: `SUP#${addressHash}`, SK: `RCP#${agencyId}` }),
  globalSuppression: (addressHash: string) => ({ PK: `SUP#${addressHash}`, SK: 'SUP' }),
  agencySuppression: (addressHash: string, agencyId: string) => ({ PK: `SUP#${addressHash}`, SK: `AG#${agencyId}` }),
  /** An agency's list entry of a suppression it made or its survey led to (10b), by address then scope. */
  suppressionListing: (agencyId: string, email: string, scope: 'agency' | 'global') => ({ PK: `AG#${agencyId}`, SK: `SUP#${email.trim().toLowerCase()}#${scope === 'global' ? 'G' : 'A'}` }),
  commitment: (agencyId: string, proId: string, commitmentId: string) => ({ PK: `AG#${agencyId}`, SK: `CMT#${proId}#${commitmentId}` }),
  summarySent: (agencyId: string, proId: string, period: string) => ({ PK: `AG#${agencyId}#PRO#${proId}#SUM`, SK: period }),
  agencySummarySent: (agencyId: string, period: string) => ({ PK: `AG#${agencyId}#SUM`, SK: period }),
  agencyAdminSummarySent: (agencyId: string, period: string, adminHash: string) => ({ PK: `AG#${agencyId}#SUM`, SK: `${period}#ADM#${adminHash}` }),
  /** An agency's summary run of a period: how far its pros were listed, and how many of them are settled. */
  summaryRun: (agencyId: string, period: string) => ({ PK: `AG#${agencyId}#SUM`, SK: `RUN#${period}` }),
  agencyDirectory: (agencyId: string) => ({ GSI1PK: AGENCIES_PARTITION, GSI1SK: agencyId }),
  /** On the agency item: when the hourly summary run next looks at it (23b). */
  summaryDue: (agencyId: string, at: string) => ({ GSI2PK: SUMMARY_DUE_PARTITION, GSI2SK: `${at}#${agencyId}` }),
  sesMessage: (messageId: string) => ({ PK: `MSG#${messageId}`, SK: 'MSG' }),
  sendRecord: (invitationId: string) => ({ PK: `SENT#${invitationId}`, SK: 'SENT' }),
  warningDue: (roundId: string, invitationId: string, revision: number) => ({ PK: `RND#${roundId}`, SK: `WDUE#${invitationId}#${revision}` }),
  warningDueLease: (roundId: string, invitationId: string, revision: number, until: string) => ({
    GSI1PK: shardOf(LEASE_PARTITIONS, invitationId),
    GSI1SK: `${until}#WDUE#${roundId}#${invitationId}#${revision}`,
  }),
  mailSendRecord: (mailRef: string) => ({ PK: `SENT#MAIL#${mailRef}`, SK: 'SENT' }),
  /** While a claimed email other than an invitation's is being sent (see `mailClaim`). */
  mailLease: (mailRef: string, until: string) => ({ GSI1PK: shardOf(LEASE_PARTITIONS, mailRef), GSI1SK: `${until}#MAIL#${mailRef}` }),
  reminderSendRecord: (invitationId: string, reminder: number) => ({ PK: `SENT#${invitationId}`, SK: `R#${reminder}` }),
  /** A round's invitations' next look (13): the item, and where it sits in GSI1 while one has a `checkAt`. */
  roundWork: (roundId: string) => ({ PK: `RND#${roundId}`, SK: 'WORK' }),
  roundWorkDue: (roundId: string, at: string) => ({ GSI1PK: shardOf(WORK_PARTITIONS, roundId), GSI1SK: `${at}#${roundId}` }),
  proCounter: (agencyId: string, proId: string, period: string, audience: string) => ({ PK: `AG#${agencyId}#PRO#${proId}#AGG`, SK: `${period}#${audience}` }),
  proCounterByAgency: (agencyId: string, proId: string, period: string, audience: string) => ({ GSI2PK: `AG#${agencyId}#SCORES`, GSI2SK: `PRO#${proId}#${period}#${audience}` }),
  /** An open round of the agency (15c): its deliveries are tallied from its invitations until its close folds them into the counters. */
  openRound: (agencyId: string, roundId: string) => ({ PK: `AG#${agencyId}#OPEN`, SK: roundId }),
  campaignCounter: (agencyId: string, campaignId: string, audience: string) => ({ PK: `AG#${agencyId}#CMP#${campaignId}#AGG`, SK: audience }),
  agencyCounter: (agencyId: string, period: string, audience: string) => ({ PK: `AG#${agencyId}#AGG`, SK: `${period}#${audience}` }),
  /** `rowKey` is `<releasedAt>#<batchId>#<random>` (see `release/rows.ts`). */
  releasedByAgency: (agencyId: string, rowKey: string) => ({ GSI1PK: `AG#${agencyId}#RSP`, GSI1SK: rowKey }),
  releasedByPro: (agencyId: string, proId: string, rowKey: string) => ({ GSI2PK: `AG#${agencyId}#PRO#${proId}#RSP`, GSI2SK: rowKey }),
  testimonial: (agencyId: string, rowKey: string) => ({ PK: `AG#${agencyId}#TST`, SK: rowKey }),
  batch: (batchId: string) => ({ PK: `BAT#${batchId}`, SK: 'BAT' }),
  batchByPro: (agencyId: string, proId: string, releasedAt: string, batchId: string) => ({
    GSI1PK: `AG#${agencyId}#PRO#${proId}#BAT`,
    GSI1SK: `${releasedAt}#${batchId}`,
  }),
  batchRowsDue: (batchId: string) => ({ GSI2PK: ROWS_DUE_PARTITION, GSI2SK: batchId }),
  pool: (agencyId: string, proId: string, audience: string) => ({ PK: `AG#${agencyId}#PRO#${proId}#POOL`, SK: audience }),
  roundByCampaign: (agencyId: string, campaignId: string, createdAt: string, roundId: string) => ({
    GSI2PK: `AG#${agencyId}#CMP#${campaignId}#RND`,
    GSI2SK: `${createdAt}#${roundId}`,
  }),
  webhook: (agencyId: string, webhookId: string) => ({ PK: `AG#${agencyId}`, SK: `HOOK#${webhookId}` }),
  /** A deleted endpoint, kept until its deliveries' log has expired: an erasure still finds that log. */
  webhookGone: (agencyId: string, webhookId: string) => ({ PK: `AG#${agencyId}`, SK: `HOOKGONE#${webhookId}` }),
  webhookDelivery: (webhookId: string, deliveryId: string) => ({ PK: `HOOK#${webhookId}`, SK: `DLV#${deliveryId}` }),
  webhookEvent: (eventId: string) => ({ PK: `${tableDefinition.webhookEventPrefix}${eventId}`, SK: 'EVT' }),
  /** An event to fan out or a delivery whose next attempt (or lease) is due at `at`; `ref` names it (`EVT#<e>`, `DLV#<w>#<d>`). */
  webhookDue: (ref: string, at: string) => ({ GSI1PK: shardOf(WEBHOOK_DUE_PARTITIONS, ref), GSI1SK: `${at}#${ref}` }),
  roundCloseDue: (roundId: string, closesAt: string) => ({ GSI1PK: ROUND_CLOSE_PARTITION, GSI1SK: `${closesAt}#${roundId}` }),
  /** One item for the account's SES rate, shared by every sender (50): SES limits the account, not a function. */
  sendingSlots: () => ({ PK: 'SLOTS#SES', SK: 'SLOTS' }),
} as const;

export const WORK_PARTITIONS = Array.from({ length: 4 }, (_, shard) => `DUE#WORK#${shard}`);

export const WEBHOOK_DUE_PARTITIONS = Array.from({ length: 4 }, (_, shard) => `DUE#HOOK#${shard}`);

export const LEASE_PARTITIONS = Array.from({ length: 4 }, (_, shard) => `DUE#LEASE#${shard}`);

/** ULIDs end in 80 random bits, so the last character spreads ids evenly. */
const shardOf = (partitions: readonly string[], invitationId: string) => partitions[invitationId.charCodeAt(invitationId.length - 1) % partitions.length]!;

/**
 * Attributes that are keys or bookkeeping (an invitation's next look, `checkAt`; a cancelled
 * round's mark that it takes no more answers, `answersClosedAt`), not data: stripped before an item becomes a domain object.
 */
export const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'expiresAt', 'type', 'checkAt', 'answersClosedAt'] as const;

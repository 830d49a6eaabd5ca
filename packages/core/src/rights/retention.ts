import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { responseOf } from '../survey/response-item';
import type { Db } from '../db/client';
import { keys, RETENTION_DUE_PARTITION } from '../db/keys';
import { withoutKeys } from '../db/items';
import { mapConcurrent } from '../db/batch';
import { queryAll } from '../db/page';
import { updateIfUnchanged } from '../db/transact';
import { getAgency } from '../agency/agency';
import type { Invitation, Round } from '../survey/round';
import type { SurveyResponse } from '../survey/response';
import { NotFoundError } from '../shared/errors';
import { addDays, iso } from '../shared/time';
import { eraseInvitationIdentity, eraseResponse, eraseSkipped } from './forget';

/**
 * The retention pass (DESIGN-NOTES "Data rights"): an agency's `retention.commentsMonths` removes
 * comments (`answers.improve`, and so testimonials) from rows released longer ago; its
 * `retention.identitiesMonths` erases recipients' names, addresses and outlets from the
 * invitations, skipped records and named responses of rounds begun longer ago. Counters stay.
 *
 * An agency with a limit has a RETENTION item in a due index (keys.ts 47): the scheduled job takes
 * at most AGENCIES_PER_PASS due agencies at a time (four at once), and each gets a bounded pass
 * (ROWS_PER_PASS rows, ROUNDS_PER_PASS rounds) from cursors kept on that item; then it is due again
 * at once if work remains (another pass in the same run, up to PASSES_PER_RUN), else in a day. An
 * idle run is one query, however many agencies there are. Every write sets a fixed state, so a
 * pass repeated (a crash before the cursor moved, two runs at once) changes nothing more.
 */
export const AGENCIES_PER_PASS = 10;
const ROWS_PER_PASS = 200;
const ROUNDS_PER_PASS = 5;

export interface RetentionRun {
  retentionAgencies: number;
  commentsRemoved: number;
  identitiesErased: number;
}

/** Makes the agency's pass due now (its limits changed): written before the settings are. */
export async function scheduleRetention(db: Db, agencyId: string, now: Date): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.retention(agencyId),
      UpdateExpression: 'SET #type = :type, agencyId = :agency, GSI1PK = :pk, GSI1SK = :sk',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'retention', ':agency': agencyId, ...dueValues(agencyId, now) },
    }),
  );
}

const dueValues = (agencyId: string, at: Date) => {
  const due = keys.retentionDue(agencyId, iso(at));
  return { ':pk': due.GSI1PK, ':sk': due.GSI1SK };
};

/** Calendar months before `date` (the 31st of a shorter month rolls over, as `Date` does). */
export const monthsBefore = (date: Date, months: number): Date => {
  const d = new Date(date);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
};

/**
 * Passes an agency with a backlog may get in one run: as many as it got an hour when the job ran
 * every 5 minutes, so a backlog clears as fast with the job hourly. The run starts no pass after
 * RUN_BUDGET_MS, well within the function's 5 minutes.
 */
const PASSES_PER_RUN = 12;
const RUN_BUDGET_MS = 120_000;

export async function runRetention(db: Db, now: Date): Promise<RetentionRun> {
  const run: RetentionRun = { retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 };
  const agencies = new Set<string>();
  const started = Date.now();
  for (let pass = 0; pass < PASSES_PER_RUN && Date.now() - started < RUN_BUDGET_MS; pass++) {
    // Due by now, those due again at once (work left after a pass of this run) included.
    const { Items = [] } = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :until',
        ExpressionAttributeValues: { ':pk': RETENTION_DUE_PARTITION, ':until': `${iso(now)}~` },
        Limit: AGENCIES_PER_PASS,
      }),
    );
    if (Items.length === 0) break;
    await mapConcurrent(Items, 4, async (item) => {
      agencies.add(item.agencyId as string);
      await agencyPass(db, item, now, run);
    });
  }
  run.retentionAgencies = agencies.size;
  return run;
}

type Cursor = Record<string, string> | undefined;

async function agencyPass(db: Db, item: Record<string, unknown>, now: Date, run: RetentionRun): Promise<void> {
  const agencyId = item.agencyId as string;
  const read = { ':read': item.GSI1SK };
  let retention;
  try {
    retention = (await getAgency(db, agencyId)).retention;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    retention = { commentsMonths: null, identitiesMonths: null };
  }
  if (retention.commentsMonths === null && retention.identitiesMonths === null) {
    await updateIfUnchanged(db, { Key: keys.retention(agencyId), UpdateExpression: 'REMOVE GSI1PK, GSI1SK', ConditionExpression: 'GSI1SK = :read', ExpressionAttributeValues: read });
    return;
  }
  let more = false;
  let commentsCursor = item.commentsCursor as Cursor;
  let identitiesCursor = item.identitiesCursor as Cursor;
  if (retention.commentsMonths !== null) {
    const pass = await commentsPass(db, agencyId, iso(monthsBefore(now, retention.commentsMonths)), commentsCursor);
    commentsCursor = pass.cursor;
    more ||= pass.more;
    run.commentsRemoved += pass.removed;
  }
  if (retention.identitiesMonths !== null) {
    const pass = await identitiesPass(db, agencyId, iso(monthsBefore(now, retention.identitiesMonths)), identitiesCursor, now);
    identitiesCursor = pass.cursor;
    more ||= pass.more;
    run.identitiesErased += pass.erased;
  }
  // Conditional on the due time read: a settings change meanwhile (due now) is not pushed back.
  await updateIfUnchanged(db, {
    Key: keys.retention(agencyId),
    UpdateExpression: `SET GSI1SK = :sk${commentsCursor ? ', commentsCursor = :comments' : ''}${identitiesCursor ? ', identitiesCursor = :identities' : ''}`,
    ConditionExpression: 'GSI1SK = :read',
    ExpressionAttributeValues: {
      ...read,
      ':sk': dueValues(agencyId, more ? now : addDays(now, 1))[':sk'],
      ...(commentsCursor ? { ':comments': commentsCursor } : {}),
      ...(identitiesCursor ? { ':identities': identitiesCursor } : {}),
    },
  });
}

/** Released rows of the agency, oldest release first, up to `cutoff`: their comments go. */
async function commentsPass(db: Db, agencyId: string, cutoff: string, cursor: Cursor) {
  const partition = keys.releasedByAgency(agencyId, '').GSI1PK;
  const { Items = [], LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :cutoff',
      ExpressionAttributeValues: { ':pk': partition, ':cutoff': cutoff },
      Limit: ROWS_PER_PASS,
      ...(cursor ? { ExclusiveStartKey: cursor } : {}),
    }),
  );
  const rows = Items.map((i) => responseOf(i)).filter((r) => r.answers.improve !== undefined);
  await mapConcurrent(rows, 8, (r) => eraseResponse(db, r, { identity: false, comment: true }));
  const last = Items.at(-1);
  return {
    cursor: last ? { PK: last.PK, SK: last.SK, GSI1PK: last.GSI1PK, GSI1SK: last.GSI1SK } : cursor,
    more: LastEvaluatedKey !== undefined,
    removed: rows.length,
  };
}

/** The agency's rounds begun before `cutoff`, oldest first: their recipients' identities go. A round still open stops the pass until it closes. */
async function identitiesPass(db: Db, agencyId: string, cutoff: string, cursor: Cursor, now: Date) {
  const { Items = [], LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND SK < :cutoff',
      ExpressionAttributeValues: { ':pk': keys.agencyRound(agencyId, '', '').PK, ':cutoff': cutoff },
      Limit: ROUNDS_PER_PASS,
      ...(cursor ? { ExclusiveStartKey: cursor } : {}),
    }),
  );
  let erased = 0;
  for (const item of Items) {
    const { Item: round } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(item.roundId as string) }));
    if ((round as Round | undefined)?.status === 'open') return { cursor, more: false, erased };
    erased += await eraseRoundIdentities(db, item.roundId as string, now);
    cursor = { PK: item.PK as string, SK: item.SK as string };
  }
  return { cursor, more: LastEvaluatedKey !== undefined, erased };
}

/** Every recipient identity of a round: invitations, skipped records, named responses. How many invitations it erased. */
async function eraseRoundIdentities(db: Db, roundId: string, now: Date): Promise<number> {
  let erased = 0;
  for (const prefix of ['INV#', 'RSP#'] as const) {
    for await (const items of queryAll(db, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':prefix': prefix },
    })) {
      await mapConcurrent(items, 8, async (item) => {
        if (prefix === 'INV#') {
          if (await eraseInvitationIdentity(db, withoutKeys<Invitation>(item), now)) erased++;
        } else {
          await eraseResponse(db, responseOf(item), { identity: true, comment: false });
        }
      });
    }
  }
  await eraseSkipped(db, roundId, null);
  return erased;
}

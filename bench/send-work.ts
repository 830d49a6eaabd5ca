/**
 * Benchmark: the DynamoDB work of sending one invitation, and one reminder. Creates a 100-recipient
 * round, sends every invitation through the send worker (`deliver`), then the first reminder of
 * each, metering the calls made and the write units per email. DynamoDB Local reports a
 * transactional write as 1 unit per item; AWS charges 2 per KB: the write units here count each
 * item of a transaction twice (every item of these transactions is under 1 KB).
 */
import { createAgency, createCampaign, createPro, createRound, createSesMailer, deliver, keys, type Config, type DeliveryDeps } from '@rapport/core';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDeps } from '@rapport/functions';
import type { Figure } from './figures';

const RECIPIENTS = 100;

/** Calls and AWS write units of what runs through `db` meanwhile (transactional items at 2 units). */
function meterWrites(deps: DeliveryDeps) {
  let calls = 0;
  let writeUnits = 0;
  deps.db.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'INDEXES';
      const result = await next(args);
      calls++;
      const name = context.commandName ?? '';
      if (!/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(name)) return result;
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      writeUnits += name.startsWith('TransactWrite') ? 2 * units : units;
      return result;
    },
    { step: 'initialize', name: 'meterSendWork' },
  );
  return { read: () => ({ calls, writeUnits }), reset: () => void ((calls = 0), (writeUnits = 0)) };
}

export async function benchSendWork(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const app = createDeps(config);
  const deps: DeliveryDeps = {
    db: app.db,
    mailer: createSesMailer({ region: config.region, endpoint: config.sesEndpoint }),
    linkSecret: app.linkSecret,
    publicUrl: config.publicUrl,
    mailFrom: config.mailFrom!,
    now: () => new Date(),
  };
  const now = new Date();
  const tag = `send-work-${now.getTime()}`;
  const agency = await createAgency(deps.db, { name: `Bench ${tag}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter' as const }));
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, now);

  const meter = meterWrites(deps);
  for (const invitation of accepted) await deliver(deps, { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId });
  const invitations = meter.read();

  const dues = await Promise.all(
    accepted.map(async (i) => (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.invitation(round.roundId, i.invitationId) }))).Item!.nextReminderAt as string),
  );
  meter.reset();
  for (const [n, invitation] of accepted.entries()) await deliver(deps, { kind: 'reminder', roundId: round.roundId, invitationId: invitation.invitationId, dueAt: dues[n]! });
  const reminders = meter.read();

  const per = (x: number) => Math.round((x / accepted.length) * 100) / 100;
  log(`send work: ${per(invitations.calls)} calls and ${per(invitations.writeUnits)} WRU per invitation, ${per(reminders.calls)} calls and ${per(reminders.writeUnits)} WRU per reminder (${accepted.length} each)`);
  const note = `${accepted.length}-invitation round, one process (the round read once); WRU: transactional items at 2 units (AWS), GSI writes as DynamoDB Local reports them`;
  return [
    { scenario: 'work', name: 'sending one invitation, DynamoDB calls', value: per(invitations.calls), unit: 'calls', budget: { on: 'value', max: 2 }, note },
    { scenario: 'work', name: 'sending one invitation, write units', value: per(invitations.writeUnits), unit: 'WRU', budget: { on: 'value', max: 6 }, note },
    { scenario: 'work', name: 'sending one reminder, DynamoDB calls', value: per(reminders.calls), unit: 'calls', budget: { on: 'value', max: 2 }, note },
    { scenario: 'work', name: 'sending one reminder, write units', value: per(reminders.writeUnits), unit: 'WRU', budget: { on: 'value', max: 6 }, note },
  ];
}

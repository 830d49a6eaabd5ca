import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgency, createCampaign, createPro, createRound, ensureTable, recoverSends, createSesMailer, type Mailer } from '@rapport/core';
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from '@rapport/local';
import { sesEmails, statusCounts, testConfig } from '@rapport/testing';
import { createDeps, inProcessSendQueue, type Deps } from '../deps';

/**
 * Issue 11: DynamoDB Local killed (SIGKILL) in the middle of a round and started again on the same
 * data: nothing lost, nothing doubled, nothing shown `failed` that was emailed. The sends cut off by
 * the kill are settled from SES's record by the recovery sweep. The test runs its own DynamoDB
 * Local with a data folder; SES is the suite's server (counted per address). 300 recipients at 50
 * emails a second; the kill comes as SES takes the 100th, and DynamoDB is back 5 s later.
 */
const RECIPIENTS = 300;

describe('DynamoDB Local killed mid-send and started again', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rapport-dynamodb-kill-'));
  let dynamo: DynamoDbLocal | undefined;
  let deps: Deps | undefined;
  afterAll(async () => {
    deps?.db.client.destroy();
    await dynamo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends with every recipient emailed once and every invitation sent', async () => {
    const port = await freePort();
    dynamo = await startDynamoDbLocal({ port, dataDir });
    const config = { ...testConfig(), dynamoEndpoint: dynamo.endpoint, table: 'rapport-kill', sendRatePerSecond: 50 };
    const queue = inProcessSendQueue(() => deps!);
    // The kill comes the moment SES has taken the 100th email, before the worker can write that
    // down: at least that send is cut off after SES took it, whatever the timing of the others.
    const ses = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
    let calls = 0;
    let killed!: () => void;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const killing: Mailer = {
      async send(message) {
        const sent = await ses.send(message);
        if (++calls === RECIPIENTS / 3) {
          process.kill(dynamo!.pid, 'SIGKILL');
          await dynamo!.exited;
          killed();
        }
        return sent;
      },
    };
    deps = createDeps(config, { queue, mailer: killing });
    await ensureTable(deps.db.client, config.table);

    const now = new Date();
    const agency = await createAgency(deps.db, { name: 'Killed' }, now);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane', email: 'jane@killed.example' }, now);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
    const tag = agency.agencyId.slice(3).toLowerCase();
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}-${tag}@killed.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, now);
    expect(accepted).toHaveLength(RECIPIENTS);
    const received = async () => (await sesEmails({ to: tag })).map((e) => e.destination.to.join().toLowerCase());

    await queue.enqueue(accepted.map((i) => ({ kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })));
    await kill;
    await new Promise((r) => setTimeout(r, 5_000));
    dynamo = await startDynamoDbLocal({ port, dataDir });
    // The jobs that met the dead database were dropped (logged); the rest ran once it was back.
    await queue.drain();

    // The recovery sweep, once every lease has run out (as the local runner does at start): queued
    // invitations whose job was dropped go out again, cut-off sends are settled from SES's record.
    const recovered = await recoverSends(deps, deps.now(), { leasesBefore: new Date(Date.now() + 24 * 3_600_000) });
    await queue.drain();
    expect(recovered.recorded).toBeGreaterThanOrEqual(1);
    expect(recovered.requeued).toBeGreaterThan(0);

    expect((await received()).sort()).toEqual(recipients.map((r) => r.email).sort());
    expect(await statusCounts(deps.db, round.roundId)).toEqual({ sent: RECIPIENTS });
    // The sweep found nothing more to do.
    expect(await recoverSends(deps, deps.now(), { leasesBefore: new Date(Date.now() + 48 * 3_600_000) })).toEqual({ requeued: 0, recorded: 0, resent: 0 });
    await queue.stop();
  }, 150_000);
});

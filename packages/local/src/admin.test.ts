import { describe, expect, it } from 'vitest';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { authenticate, createPro, getAgency, keys, listMembers, loginChoices, loginHash, UnauthorizedError } from '@rapport/core';
import { runTool, testConfig, testDeps } from '@rapport/testing';
import { freePort } from './engines/ports';

const deps = testDeps();

/** Runs the real CLI against this run's DynamoDB Local. */
function admin(args: string[], env: Record<string, string> = {}) {
  const config = testConfig();
  return runTool('packages/local/src/admin.ts', args, { DYNAMODB_ENDPOINT: config.dynamoEndpoint!, TABLE_NAME: config.table, ...env });
}

describe('admin CLI', () => {
  it('creates an agency with a working admin key, then a read key, then revokes it', async () => {
    const created = await admin(['create-agency', '--name', 'Acme PR', '--timezone', 'Europe/Madrid']);
    expect(created.code).toBe(0);
    const { agencyId, apiKey } = created.result;
    expect(await getAgency(deps.db, agencyId)).toMatchObject({ name: 'Acme PR', timezone: 'Europe/Madrid' });
    expect(await authenticate(deps.db, apiKey)).toMatchObject({ agencyId, role: 'admin' });

    const read = await admin(['create-key', '--agency', agencyId, '--role', 'read']);
    expect(read.result).toMatchObject({ agencyId, role: 'read', apiKey: expect.stringMatching(/^rpk_/) });
    expect(await authenticate(deps.db, read.result.apiKey)).toMatchObject({ role: 'read' });

    const revoked = await admin(['revoke-key', '--agency', agencyId, '--key', read.result.keyId]);
    expect(revoked.result).toMatchObject({ keyId: read.result.keyId, revokedAt: expect.any(String) });
    await expect(authenticate(deps.db, read.result.apiKey)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('creates the first admin member from --admin-email, who may then sign in to the console', async () => {
    const email = `Owner-${Date.now()}@Acme-PR.example`;
    const created = await admin(['create-agency', '--name', 'Acme PR', '--admin-email', email]);
    expect(created.code).toBe(0);
    const { agencyId, admin: first } = created.result;
    expect(first).toEqual({ memberId: expect.stringMatching(/^mbr_/), name: email.split('@')[0], email, role: 'admin' });
    expect((await listMembers(deps.db, agencyId)).map((m) => [m.memberId, m.name, m.role, m.deactivatedAt])).toEqual([[first.memberId, first.name, 'admin', undefined]]);
    expect(await loginChoices(deps.db, loginHash(email.toLowerCase()))).toEqual([
      { identity: { kind: 'member', agencyId, memberId: first.memberId }, email, name: first.name, agencyName: 'Acme PR', role: 'Admin' },
    ]);

    const named = await admin(['create-agency', '--name', 'Beta PR', '--admin-email', 'b@beta.example', '--admin-name', 'Bea Boss']);
    expect(named.result.admin).toMatchObject({ name: 'Bea Boss', email: 'b@beta.example', role: 'admin' });
    // Without --admin-email, no member: the agency is for the API only until an admin is added.
    const none = await admin(['create-agency', '--name', 'Gamma PR']);
    expect(none.result.admin).toBeUndefined();
    expect(await listMembers(deps.db, none.result.agencyId)).toEqual([]);
  });

  it('index-logins writes the sign-in lookup of pros created before it existed, once', async () => {
    const { agencyId } = (await admin(['create-agency', '--name', 'Old PR'])).result;
    const email = `old-${Date.now()}@old.example`;
    const pro = await createPro(deps.db, agencyId, { name: 'Olga', email }, new Date());
    const identity = { kind: 'pro', agencyId, proId: pro.proId } as const;
    // As a pro created before the console: no lookup.
    await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: keys.login(loginHash(email), identity) }));
    expect(await loginChoices(deps.db, loginHash(email))).toEqual([]);
    const indexed = await admin(['index-logins', '--agency', agencyId]);
    expect(indexed.result).toEqual({ agencies: 1, indexed: 1 });
    expect((await loginChoices(deps.db, loginHash(email))).map((c) => c.identity)).toEqual([identity]);
    expect((await admin(['index-logins', '--agency', agencyId])).result).toEqual({ agencies: 1, indexed: 1 });
    expect(await loginChoices(deps.db, loginHash(email))).toHaveLength(1);
  });

  it('explains bad input in one sentence and exits non-zero', async () => {
    const noName = await admin(['create-agency']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/^--name is required\./);
    const badZone = await admin(['create-agency', '--name', 'X', '--timezone', 'Mars/Base']);
    expect(badZone.code).toBe(1);
    expect(badZone.stderr.trim()).toBe('timezone: must be an IANA time zone such as Europe/Madrid');
    const badAdmin = await admin(['create-agency', '--name', 'X', '--admin-email', 'not-an-address']);
    expect(badAdmin.code).toBe(1);
    expect(badAdmin.stderr.trim()).toBe('--admin-email: must be a valid email address');
    const unknownAgency = await admin(['create-key', '--agency', 'ag_01JAAAAAAAAAAAAAAAAAAAAAAA', '--role', 'read']);
    expect(unknownAgency.stderr.trim()).toBe('agency not found');
    expect(noName.stdout + badZone.stdout + badAdmin.stdout + unknownAgency.stdout).toBe('');
  });

  it('says where it looked when DynamoDB is not running', async () => {
    const port = await freePort();
    const res = await admin(['create-agency', '--name', 'X'], { DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(`Cannot reach DynamoDB at http://127.0.0.1:${port}: is \`npm start\` running?`);
  });
});

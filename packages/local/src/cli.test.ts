import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '@rapport/testing';
import { freePorts, systemPorts } from './engines/ports';
import { connectToInstance } from './cli';
import { INSTANCE_FILE, readInstanceFile, writeInstanceFile } from './instance';
import { startLocalSystem, type LocalSystem } from './system';

/** A CLI as a newcomer runs it: nothing set but DATA_DIR, the folder `npm start` was given. */
const tool = (name: 'admin' | 'job', args: string[], stateDir: string) =>
  runTool(`packages/local/src/${name}.ts`, args, {
    DATA_DIR: stateDir,
    // Whatever the test run's environment holds, the CLI must find the instance by itself.
    DYNAMODB_ENDPOINT: '',
    SES_ENDPOINT: '',
    TABLE_NAME: '',
    PUBLIC_URL: '',
    LINK_SECRET: '',
  });

// Each CLI run is a Node process of its own: seconds apiece on a busy machine.
describe('the CLIs find the running instance', { timeout: 120_000 }, () => {
  let system: LocalSystem;
  const stateDir = mkdtempSync(join(tmpdir(), 'rapport-cli-'));
  beforeAll(async () => {
    // Left by a crash whose pid has gone to another process (this one): its port is free, so it does not count.
    const [apiPort, port, dynamoDbPort, sesPort] = await freePorts(4);
    writeFileSync(join(stateDir, INSTANCE_FILE), JSON.stringify({ pid: process.pid, endpoints: { api: `http://localhost:${apiPort}` }, ports: { api: apiPort } }));
    // In memory, on ports that are not the defaults, with a table of its own: nothing a CLI could guess.
    system = await startLocalSystem({
      port: port!,
      dynamoDbPort: dynamoDbPort!,
      sesPort: sesPort!,
      stateDir,
      env: { TABLE_NAME: 'rapport-cli-test' },
    });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('npm start writes the state file, mode 600, with its endpoints, table and link secret', () => {
    const file = join(stateDir, INSTANCE_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { api, dynamodb, ses } = system.urls;
    expect(readInstanceFile(stateDir)).toEqual({
      pid: process.pid,
      startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      dataDir: null,
      table: 'rapport-cli-test',
      region: 'us-east-1',
      publicUrl: api,
      mailFrom: 'surveys@rapport.local',
      linkSecret: system.config.linkSecret,
      endpoints: { api, dynamodb, ses },
      ports: { api: Number(new URL(api).port), dynamodb: Number(new URL(dynamodb).port), ses: Number(new URL(ses).port) },
    });
  });

  it('an in-memory instance on other ports: the admin CLI writes to its table, and a reminder the job CLI sends opens its survey page', async () => {
    const created = await tool('admin', ['create-agency', '--name', 'Elsewhere PR'], stateDir);
    expect(created.stderr).toBe('');
    const { agencyId, apiKey } = created.result;
    expect(agencyId).toMatch(/^ag_/);

    const api = async (path: string, body: object) => {
      const response = await fetch(`${system.urls.api}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      return (await response.json()) as Record<string, string>;
    };
    const { proId } = await api('/v1/pros', { name: 'Jane Doe', email: 'jane@elsewhere.example' });
    const { campaignId } = await api('/v1/campaigns', { proId, name: 'Autumn' });
    const email = `ben-${agencyId.slice(3).toLowerCase()}@elsewhere.example`;
    await api(`/v1/campaigns/${campaignId}/surveys`, { recipients: [{ email, audience: 'colleague' }] });

    const inbox = async () => {
      const { emails } = (await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { text: string } }[] };
      return emails.filter((e) => e.destination.to.join().toLowerCase() === email);
    };
    for (let i = 0; i < 100 && (await inbox()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await inbox()).toHaveLength(1);

    const ran = await tool('job', ['scheduled', '--at', new Date(Date.now() + 4 * 86_400_000).toISOString()], stateDir);
    expect(ran.stderr).toBe('');
    expect(ran.result).toMatchObject({ job: 'scheduled', remindersQueued: 1 });
    const [, reminder] = await inbox();
    expect(reminder!.subject).toBe('Reminder: How responsive was Jane Doe on the Autumn?');
    const link = reminder!.body.text.match(/http\S+\/s\/[^\s]+/)![0];
    expect(link.startsWith(`${system.urls.api}/s/`)).toBe(true);
    expect((await fetch(link)).status).toBe(200);
  });

  it('a second start for the same DATA_DIR is refused; stop() removes the state file, and the CLIs then say nothing runs', async () => {
    const ports = await systemPorts();
    await expect(startLocalSystem({ ...ports, stateDir, env: {} })).rejects.toThrow(
      `Rapport is already running for ${stateDir} (pid ${process.pid}, ${system.urls.api}); stop it first, or set DATA_DIR to another folder to run a second one.`,
    );
    await system.stop();
    expect(readInstanceFile(stateDir)).toBeUndefined();
    expect((await tool('admin', ['create-agency', '--name', 'X'], stateDir)).stderr).toMatch(/^No Rapport is running for /);
  });
});

describe('the CLIs with no instance running', { timeout: 60_000 }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rapport-cli-none-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('say so in one sentence, and report a mistake in the arguments first', async () => {
    const none = await tool('admin', ['create-agency', '--name', 'X'], stateDir);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(`No Rapport is running for ${stateDir}: start one with \`npm start\` in another terminal (or set DATA_DIR to the folder of the one running).`);
    expect(none.stdout).toBe('');
    const usage = await tool('job', ['scheduled', '--at', 'tomorrow'], stateDir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^--at must be an ISO 8601 time/);
  });

  it('job: an explicit DYNAMODB_ENDPOINT without SES_ENDPOINT never falls back to AWS SES', async () => {
    const res = await runTool('packages/local/src/job.ts', ['scheduled'], { DATA_DIR: stateDir, DYNAMODB_ENDPOINT: 'http://127.0.0.1:1', SES_ENDPOINT: '' });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('Set SES_ENDPOINT too when DYNAMODB_ENDPOINT is set (or give --aws to send through AWS).');
  });

  it('see through the state file a crashed instance left behind', async () => {
    // A pid no process has: the one of a short-lived process that has exited.
    const { pid } = spawnSync('true');
    writeFileSync(join(stateDir, INSTANCE_FILE), JSON.stringify({ pid, endpoints: { api: 'http://localhost:3999' } }), { mode: 0o600 });
    const stale = await tool('job', ['scheduled'], stateDir);
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toBe(`The Rapport that ran for ${stateDir} (pid ${pid}) has stopped: start it again with \`npm start\`.`);
  });
});

describe('connectToInstance', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rapport-connect-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const state = {
    pid: process.pid,
    startedAt: '2026-12-01T09:00:00.000Z',
    dataDir: null,
    table: 'rapport-elsewhere',
    region: 'eu-west-1',
    publicUrl: 'http://localhost:3100',
    mailFrom: 'surveys@elsewhere.example',
    linkSecret: 'a-link-secret-of-the-running-instance-0123456789',
    endpoints: { api: 'http://localhost:3100', dynamodb: 'http://127.0.0.1:8100', ses: 'http://127.0.0.1:8105' },
    ports: { api: 3100, dynamodb: 8100, ses: 8105 },
  };
  beforeAll(() => writeInstanceFile(stateDir, state));

  it('takes everything from the running instance, under the variables the caller set', () => {
    const { config, instance } = connectToInstance({ env: { DATA_DIR: stateDir, TABLE_NAME: 'rapport-mine', PUBLIC_URL: '' }, cwd: '/' });
    expect(instance).toEqual(state);
    expect(config).toMatchObject({
      table: 'rapport-mine',
      region: 'eu-west-1',
      dynamoEndpoint: 'http://127.0.0.1:8100',
      sesEndpoint: 'http://127.0.0.1:8105',
      publicUrl: 'http://localhost:3100',
      mailFrom: 'surveys@elsewhere.example',
      linkSecret: state.linkSecret,
    });
  });

  it('reads no state file with an explicit DYNAMODB_ENDPOINT or --aws', () => {
    const explicit = connectToInstance({ env: { DATA_DIR: stateDir, DYNAMODB_ENDPOINT: 'http://127.0.0.1:9000' }, cwd: '/' });
    expect(explicit.instance).toBeUndefined();
    expect(explicit.config).toMatchObject({ dynamoEndpoint: 'http://127.0.0.1:9000', sesEndpoint: undefined, table: 'rapport', linkSecret: undefined });
    const aws = connectToInstance({ env: { DATA_DIR: stateDir }, aws: true, cwd: '/' });
    expect(aws.instance).toBeUndefined();
    expect(aws.config).toMatchObject({ dynamoEndpoint: undefined, sesEndpoint: undefined });
  });
});

import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree, systemPorts } from './engines/ports';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgency, createCampaign, createDb, createPro, createRound, createSesMailer, LEASE_MS, leaseUntil, listInvitations, openInvitation, transitionInvitation } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { answerLostMailer, dynamoDbLocalPids } from '@rapport/testing';
import { readInstanceFile } from './instance';
import { startLocalSystem } from './system';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};


describe('startLocalSystem', () => {
  it('serves the app and the inbox, and stop() leaves nothing running', async () => {
    const p = await systemPorts();
    const system = await startLocalSystem({ ...p, env: {} });
    let stopped = false;
    try {
      expect(system.dataDir).toBeUndefined();
      expect(system.table).toBe('created');
      expect(system.config.publicUrl).toBe(`http://localhost:${p.port}`);
      expect(dynamoDbLocalPids(p.dynamoDbPort)).toEqual([system.dynamoDbPid]);

      const health = await fetch(`${system.urls.api}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('content-type')).toMatch(/application\/json/);
      await health.json();
      expect((await fetch(system.urls.inbox)).status).toBe(200);

      await system.stop();
      stopped = true;
    } finally {
      if (!stopped) await system.stop();
    }
    expect(isAlive(system.dynamoDbPid)).toBe(false);
    for (const port of Object.values(p)) expect(await isPortFree(port)).toBe(true);
  });

  it('reports every taken port in one sentence, before starting anything', async () => {
    const p = await systemPorts();
    const blockers = [p.port, p.sesPort, p.dynamoDbPort].map((port) => {
      const server: Server = createServer();
      return new Promise<Server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
    });
    const servers = await Promise.all(blockers);
    try {
      await expect(startLocalSystem({ ...p, env: {} })).rejects.toThrow(
        `Ports ${p.port} (PORT), ${p.sesPort} (SES_PORT) and ${p.dynamoDbPort} (DYNAMODB_PORT) are already in use; set those variables to other ports.`,
      );
      expect(dynamoDbLocalPids(p.dynamoDbPort)).toEqual([]);
    } finally {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    }
  });

  it('stops what it started when a later step fails', async () => {
    const p = await systemPorts();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(p.dynamoDbPort, '127.0.0.1', resolve));
    try {
      await expect(startLocalSystem({ ...p, env: {} })).rejects.toThrow(
        `Port ${p.dynamoDbPort} is already in use (set DYNAMODB_PORT to another port).`,
      );
      expect(await isPortFree(p.sesPort)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('npm start (the CLI)', () => {
  // Each run's DATA_DIR, for its state file: never the repository's `.data`.
  const dataDirs = mkdtempSync(join(tmpdir(), 'rapport-start-'));
  afterAll(() => rmSync(dataDirs, { recursive: true, force: true }));

  /** Runs the root `npm start` script, in its own process group so a failed test can kill all of it. */
  function runCli(env: Record<string, string>, args: string[] = ['--in-memory']) {
    const dataDir = mkdtempSync(join(dataDirs, 'run-'));
    const child = spawn('npm', ['start', '--silent', '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, killGroup, dataDir, output: () => ({ stdout, stderr }) };
  }

  it('starts, answers /health, and exits 0 on SIGTERM without leaving Java behind', async () => {
    const p = await systemPorts();
    const cli = runCli({ PORT: String(p.port), DYNAMODB_PORT: String(p.dynamoDbPort), SES_PORT: String(p.sesPort) });
    try {
      const deadline = Date.now() + 45_000;
      let healthy = false;
      while (!healthy && Date.now() < deadline && cli.child.exitCode === null) {
        healthy = await fetch(`http://localhost:${p.port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (!healthy) await new Promise((r) => setTimeout(r, 250));
      }
      expect(healthy, cli.output().stderr).toBe(true);
      expect(cli.output().stdout).toContain(`http://localhost:${p.port}/docs`);
      expect(cli.output().stdout).toContain('in memory');
      expect(dynamoDbLocalPids(p.dynamoDbPort)).toHaveLength(1);
      // In memory, the state file the CLIs read is in DATA_DIR all the same.
      expect(readInstanceFile(cli.dataDir)).toMatchObject({ dataDir: null, endpoints: { api: `http://localhost:${p.port}`, dynamodb: `http://127.0.0.1:${p.dynamoDbPort}` } });

      // To npm only, as a process manager or `docker stop` would send it.
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(readInstanceFile(cli.dataDir)).toBeUndefined();
    } finally {
      cli.killGroup();
    }
    expect(dynamoDbLocalPids(p.dynamoDbPort)).toEqual([]);
    for (const port of Object.values(p)) expect(await isPortFree(port)).toBe(true);
  }, 60_000);

  it('takes DynamoDB Local down with it when killed outright (SIGKILL to the whole npm start)', async () => {
    const p = await systemPorts();
    const cli = runCli({ PORT: String(p.port), DYNAMODB_PORT: String(p.dynamoDbPort), SES_PORT: String(p.sesPort) });
    try {
      const deadline = Date.now() + 45_000;
      while (dynamoDbLocalPids(p.dynamoDbPort).length === 0 || !(await fetch(`http://localhost:${p.port}/health`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline || cli.child.exitCode !== null) throw new Error(`npm start did not come up: ${cli.output().stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const [java] = dynamoDbLocalPids(p.dynamoDbPort);
      cli.killGroup(); // npm, tsx and Node at once; Java is in a group of its own
      for (let i = 0; i < 50 && isAlive(java!); i++) await new Promise((r) => setTimeout(r, 100));
      expect(isAlive(java!)).toBe(false);
      // The next start finds its ports free.
      for (let i = 0; i < 50 && !(await isPortFree(p.dynamoDbPort)); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await isPortFree(p.dynamoDbPort)).toBe(true);
    } finally {
      cli.killGroup();
    }
  }, 60_000);

  it('exits 1 with one sentence on a bad setting', async () => {
    const cli = runCli({ DYNAMODB_PORT: 'eight' });
    expect(await cli.exited).toBe(1);
    expect(cli.output().stderr).toContain('DYNAMODB_PORT must be a port number from 1 to 65535 (got "eight").');
    expect(cli.output().stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 1 with one sentence when PORT is taken, before starting anything', async () => {
    const p = await systemPorts();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(p.port, '127.0.0.1', resolve));
    try {
      const cli = runCli({ PORT: String(p.port), DYNAMODB_PORT: String(p.dynamoDbPort), SES_PORT: String(p.sesPort) });
      expect(await cli.exited).toBe(1);
      expect(cli.output().stderr).toContain(`Port ${p.port} is already in use (set PORT to another port).`);
      expect(dynamoDbLocalPids(p.dynamoDbPort)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('sends at once, after a restart, the invitations the previous run had queued but not sent, and settles its sends cut off mid-way from the SES store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rapport-restart-'));
    try {
      const p = await systemPorts();
      // First run: a round is written, but its queue dies with the run before sending anything.
      const first = await startLocalSystem({ ...p, dataDir, env: {} });
      const db = createDb({ region: first.config.region, endpoint: first.config.dynamoEndpoint, table: first.config.table });
      const now = new Date();
      const agency = await createAgency(db, { name: 'Restart' }, now);
      const pro = await createPro(db, agency.agencyId, { name: 'Jane', email: 'jane@restart.example' }, now);
      const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
      const recipients = ['ana', 'ben', 'cleo', 'dee', 'eve'].map((who) => ({ email: `${who}-${agency.agencyId.slice(3)}@news.example`, audience: 'reporter' }));
      const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
      const [dee, eve] = accepted.slice(3).map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
      // Two sends were under way when the run died, their leases far from over: SES took dee's
      // email (its answer never came back), eve's worker died before calling SES.
      const ses = createSesMailer({ region: first.config.region, endpoint: first.config.sesEndpoint });
      const delivery = { db, linkSecret: first.config.linkSecret!, publicUrl: first.config.publicUrl, mailFrom: first.config.mailFrom, now: () => new Date() };
      expect(await deliver({ ...delivery, mailer: answerLostMailer(ses) }, dee!)).toBe('in-doubt');
      expect(await transitionInvitation(db, eve!.roundId, eve!.invitationId, 'pending', 'sending', { set: { sendingAt: now.toISOString(), ...leaseUntil(new Date(Date.now() + LEASE_MS)) } })).toBe(true);
      await first.stop();

      const second = await startLocalSystem({ ...p, dataDir, env: {} });
      try {
        const sent = async () => {
          const { emails } = (await (await fetch(`${second.urls.ses}/store`)).json()) as { emails: { messageId: string; destination: { to: string[] } }[] };
          return emails.filter((e) => e.destination.to.join().toLowerCase().includes(agency.agencyId.slice(3).toLowerCase()));
        };
        // Not once the leases run out (15 minutes on): now.
        for (let i = 0; i < 100 && (await sent()).length < 5; i++) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 200)); // room for a duplicate to show
        const emails = await sent();
        expect(emails.map((e) => e.destination.to.join().toLowerCase()).sort()).toEqual(recipients.map((r) => r.email.toLowerCase()).sort());
        const statuses = async () => (await listInvitations(db, round.roundId, { limit: 10 })).items.map((i) => i.status);
        for (let i = 0; i < 50 && (await statuses()).some((s) => s !== 'sent'); i++) await new Promise((r) => setTimeout(r, 100));
        expect(await statuses()).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
        // Dee's email is the one SES took in the first run; eve's went out once, now.
        const deeEmail = emails.find((e) => e.destination.to.join().startsWith('dee-'))!;
        expect((await openInvitation(db, dee!)).invitation).toMatchObject({ status: 'sent', messageId: deeEmail.messageId });
        expect((await openInvitation(db, eve!)).invitation).toMatchObject({ status: 'sent', lastFailure: 'Interrupted' });
      } finally {
        db.client.destroy();
        ses.client.destroy();
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

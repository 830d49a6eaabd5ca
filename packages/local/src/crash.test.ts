import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgency, createApiKey, createDb } from '@rapport/core';
import { isPortFree, systemPorts } from './engines/ports';
import { startSesLocal, type SesLocal } from './engines/ses';
import { dynamoDbLocalPids } from '@rapport/testing';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const RECIPIENTS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `npm start` in a process group of its own, so the test can SIGKILL all of it at once. */
function npmStart(env: Record<string, string>) {
  const child = spawn('npm', ['start', '--silent'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone already
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, killGroup, exited, stderr: () => stderr };
}

/**
 * Issue 11: the whole `npm start` SIGKILLed while a round goes out, then started again on the same
 * data: every recipient emailed exactly once, every invitation `sent`. The SES server is the
 * test's (`SES_ENDPOINT`), so it outlives the stack and its store counts every email either run
 * sent; it is also the record the restart settles cut-off sends from. 300 recipients at 50 emails
 * a second through the HTTP API; the kill comes as SES takes the 100th.
 */
describe('npm start SIGKILLed mid-send and started again', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rapport-crash-'));
  let ses: SesLocal | undefined;
  const runs: ReturnType<typeof npmStart>[] = [];
  afterAll(async () => {
    for (const run of runs) run.killGroup('SIGKILL');
    await ses?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends with every recipient emailed once and every invitation sent', async () => {
    const { port, dynamoDbPort, sesPort } = await systemPorts();
    ses = await startSesLocal({ port: sesPort });
    const env = {
      PORT: String(port),
      DYNAMODB_PORT: String(dynamoDbPort),
      SES_ENDPOINT: ses.endpoint,
      DATA_DIR: dataDir,
      TABLE_NAME: 'rapport-crash',
      SEND_RATE_PER_SECOND: '50',
    };
    const api = `http://localhost:${port}`;
    const start = async () => {
      const run = npmStart(env);
      runs.push(run);
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`${api}/health`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`npm start did not come up: ${run.stderr()}`);
        await sleep(200);
      }
      return run;
    };

    const first = await start();
    const db = createDb({ region: 'us-east-1', endpoint: `http://127.0.0.1:${dynamoDbPort}`, table: env.TABLE_NAME });
    const agency = await createAgency(db, { name: 'Crash' }, new Date());
    const { secret } = await createApiKey(db, agency.agencyId, { role: 'admin' }, new Date());
    db.client.destroy();
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { Authorization: `Bearer ${secret}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const tag = agency.agencyId.slice(3).toLowerCase();
    const { proId } = (await call('POST', '/v1/pros', { name: 'Jane', email: `jane-${tag}@crash.example` })).body;
    const { campaignId } = (await call('POST', '/v1/campaigns', { proId, name: 'Launch' })).body;
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}-${tag}@crash.example`, audience: 'reporter' }));
    // The kill comes as SES answers the 100th email: the server has stored it, and the stack dies
    // before it hears so. That send is surely cut off after SES took it; the restart must record it
    // from the server's store, not send it again. (Each SendRawEmail is a POST; the store is read by GET.)
    let posts = 0;
    let cutOff!: () => void;
    const killed = new Promise<void>((resolve) => (cutOff = resolve));
    ses.server!.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST' || ++posts !== RECIPIENTS / 3) return;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        // npm, tsx and Node at once; DynamoDB Local (its own group) dies by the runner's watchdog.
        first.killGroup('SIGKILL');
        void first.exited.then(() => {
          end(...args);
          cutOff();
        });
        return res;
      }) as typeof res.end;
    });
    const created = await call('POST', `/v1/campaigns/${campaignId}/surveys`, { attribution: 'named', recipients });
    expect(created.status).toBe(202);
    expect(created.body.accepted).toBe(RECIPIENTS);

    const received = async () => {
      const { emails } = (await (await fetch(`${ses!.endpoint}/store`)).json()) as { emails: { destination: { to: string[] } }[] };
      return emails.map((e) => e.destination.to.join().toLowerCase()).filter((to) => to.includes(tag));
    };
    await killed;
    for (let i = 0; i < 100 && (dynamoDbLocalPids(dynamoDbPort).length > 0 || !(await isPortFree(dynamoDbPort))); i++) await sleep(100);
    // (A request under way as the stack died may still have been stored after it.)
    expect((await received()).length).toBeGreaterThanOrEqual(RECIPIENTS / 3);
    expect((await received()).length).toBeLessThan(RECIPIENTS / 3 + 10);

    // The restart recovers at once what the first run had queued or was sending.
    const second = await start();
    for (let i = 0; i < 600 && (await received()).length < RECIPIENTS; i++) await sleep(100);
    expect((await received()).sort()).toEqual(recipients.map((r) => r.email).sort());

    const statuses = async () => {
      const all: string[] = [];
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page = await call('GET', `/v1/surveys/${created.body.surveyId}/invitations?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        all.push(...page.body.data.map((i: { status: string }) => i.status));
        cursor = page.body.nextCursor;
      }
      return all;
    };
    // Each is recorded just after its send: give the last ones a moment to land.
    for (let i = 0; i < 50 && (await statuses()).some((s) => s !== 'sent'); i++) await sleep(100);
    expect(await statuses()).toEqual(Array(RECIPIENTS).fill('sent'));

    second.child.kill('SIGTERM');
    await second.exited;
    expect(dynamoDbLocalPids(dynamoDbPort)).toEqual([]);
  }, 180_000);
});

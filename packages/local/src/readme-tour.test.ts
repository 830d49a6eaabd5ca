import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './engines/ports';
import { startLocalSystem, type LocalSystem } from './system';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The README's ```bash tour blocks, in order: the tour a new user types. */
const tourScript = () =>
  [...readFileSync(`${root}/README.md`, 'utf8').matchAll(/```bash tour\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');

describe("the README's five-minute tour", () => {
  let system: LocalSystem;
  beforeAll(async () => {
    system = await startLocalSystem({ port: await freePort(), dynamoDbPort: await freePort(), sesPort: await freePort() });
  });
  afterAll(() => system?.stop());

  it('works as written against `npm start`', async () => {
    const script = tourScript();
    expect(script).toContain('create-agency');
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: root,
      env: { ...process.env, API: system.urls.api, DYNAMODB_PORT: new URL(system.urls.dynamodb).port },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n').map((line) => (line.startsWith('{') ? JSON.parse(line) : line));
    const [agency, health, settings, patched, proId, campaign, campaigns, readKey, refused] = lines;
    expect(agency).toMatchObject({ name: 'Acme PR', timezone: 'Europe/Madrid', apiKey: expect.stringMatching(/^rpk_/) });
    expect(health.status).toBe('ok');
    expect(settings.anonymityThreshold).toBe(5);
    expect(patched).toMatchObject({ anonymityThreshold: 6, throttle: { reporterDays: 60 } });
    expect(proId).toMatch(/^pro_/);
    expect(campaign).toMatchObject({ proId, name: 'Spring Launch', tags: ['launch'] });
    expect(campaigns).toEqual({ data: [campaign], next_cursor: null });
    expect(readKey).toMatchObject({ role: 'read', name: 'dashboard', secret: expect.stringMatching(/^rpk_/) });
    expect(refused).toMatchObject({ status: 400, errors: [{ field: 'anonymityThreshold' }] });
    expect(lines).toHaveLength(9);
  });
});

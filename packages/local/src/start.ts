/**
 * `npm start [-- --in-memory] [-- --demo]`: the whole system on this machine (`--demo`, or
 * `npm run demo`: with a year of a demo agency seeded before the jobs start). A thin CLI around startLocalSystem:
 * settings from the environment, a banner, clean shutdown on Ctrl-C / SIGTERM, and one sentence
 * (no stack trace) and exit code 1 when something cannot start.
 */
import { relative, resolve } from 'node:path';
import { ConfigError } from '@rapport/core';
import { demoGuide, seedDemo, type DemoResult } from './demo';
import { EngineError } from './engines/errors';
import { readLocalSettings, SettingsError, USAGE, type LocalSettings } from './settings';
import { startLocalSystem, type LocalSystem } from './system';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

function sentence(error: unknown): string {
  if (error instanceof EngineError || error instanceof ConfigError || error instanceof SettingsError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Rapport could not start: ${message.split('\n')[0]}`;
}

function banner(system: LocalSystem, settings: LocalSettings): string {
  const { urls, dataDir } = system;
  // The CLIs find this instance from the state file in DATA_DIR; name it only when it is not the default.
  const adminEnv = settings.stateDir !== resolve('.data') ? [`DATA_DIR=${relative('.', settings.stateDir) || '.'}`] : [];
  return [
    `Rapport is running (data ${dataDir ? `in ${dataDir}` : 'in memory; gone when you stop'}).`,
    `  Console   ${urls.api}/   (${system.config.signUpOpen ? `start your agency at ${urls.api}/signup, or sign in by email` : 'sign in by email'}; the link arrives in the Inbox)`,
    `  API       ${urls.api}`,
    `  Docs      ${urls.docs}`,
    `  OpenAPI   ${urls.openapi}`,
    `  Inbox     ${urls.inbox}   (every email the app sends)`,
    `  DynamoDB  ${urls.dynamodb}`,
    `${system.config.signUpOpen ? 'Or create' : 'Create'} an agency, its first API key and its first admin (who signs in at /login) from another terminal:`,
    `  ${[...adminEnv, 'npm run admin -- create-agency --name "Acme PR" --admin-email you@acme-pr.example'].join(' ')}`,
    `Reminders and round closing run every ${Math.round(settings.jobsIntervalMs / 1000)} s, summaries hourly; the README's tour shows the rest.`,
    `Press Ctrl-C to stop.`,
  ].join('\n');
}

let system: LocalSystem | undefined;
let exiting = false;

async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await system?.stop();
  } catch (error) {
    console.error(`Rapport did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  }
  process.exit(code);
}

// A signal during start-up is handled once the start has finished (or failed and cleaned up).
let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signalled = true;
    if (system && !exiting) {
      console.log('\nStopping Rapport…');
      void shutdown(0);
    }
  });
}

let settings: LocalSettings;
let demo: DemoResult | undefined;
try {
  settings = readLocalSettings(process.env, args);
  system = await startLocalSystem({
    ...settings,
    ...(args.includes('--demo') ? { beforeJobs: async (config) => void (demo = await seedDemo(config, new Date(), (line) => console.log(line))) } : {}),
    onFailure: (error) => {
      console.error(`${error.message.replace(/\.$/, '')}; stopping Rapport.`);
      void shutdown(1);
    },
  });
} catch (error) {
  console.error(sentence(error));
  process.exit(1);
}

if (signalled) await shutdown(0);
else console.log(banner(system, settings) + (demo ? demoGuide(demo, system.urls) : ''));

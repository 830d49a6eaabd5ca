/**
 * The running instance's state file, `<DATA_DIR>/instance.json`: what `npm start` tells the CLIs
 * (`npm run admin`, `npm run job`, `npm run demo`) so they reach *its* DynamoDB and SES, sign links
 * with *its* secret and point them at *its* pages, whatever ports it runs on, in memory or not.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INSTANCE_FILE = 'instance.json';

export interface InstanceState {
  /** The `npm start` process; the file is stale once it is gone. */
  pid: number;
  startedAt: string;
  /** Where DynamoDB's data persists; null when in memory. */
  dataDir: string | null;
  table: string;
  region: string;
  /** Where links in emails point: the app's pages. */
  publicUrl: string;
  mailFrom: string;
  /** Signs survey and unsubscribe links; the file is mode 600 for it. */
  linkSecret: string;
  endpoints: { api: string; dynamodb: string; ses: string };
  ports: { api: number; dynamodb: number; ses: number };
}

/** No instance runs for a data folder; the message is the one sentence a person needs. */
export class NoInstanceError extends Error {
  override name = 'NoInstanceError';
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The state file of `stateDir` as written, alive or not; undefined when there is none (or it is unreadable). */
export function readInstanceFile(stateDir: string): InstanceState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, INSTANCE_FILE), 'utf8')) as InstanceState;
  } catch {
    return undefined;
  }
}

/** The instance running for `stateDir`, if one is: a file whose process has died is ignored. */
export function runningInstance(stateDir: string): InstanceState | undefined {
  const state = readInstanceFile(stateDir);
  return state && isAlive(state.pid) ? state : undefined;
}

/**
 * The instance running for `stateDir`, or a NoInstanceError saying why there is none (never
 * started there, or stopped without cleaning up: a crash leaves the file, its process is gone).
 */
export function requireInstance(stateDir: string): InstanceState {
  const state = readInstanceFile(stateDir);
  if (!state) throw new NoInstanceError(`No Rapport is running for ${stateDir}: start one with \`npm start\` in another terminal (or set DATA_DIR to the folder of the one running).`);
  if (!isAlive(state.pid)) throw new NoInstanceError(`The Rapport that ran for ${stateDir} (pid ${state.pid}) has stopped: start it again with \`npm start\`.`);
  return state;
}

/**
 * Writes the state file, mode 600 from its first byte (it holds the link secret): written under a
 * temporary name and renamed, so a reader never sees half a file and an older file's mode never
 * carries over. Returns a remover that deletes the file only while it is still this one's.
 */
export function writeInstanceFile(stateDir: string, state: InstanceState): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, INSTANCE_FILE);
  const temporary = `${file}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return () => {
    const current = readInstanceFile(stateDir);
    if (current?.pid === state.pid && current.startedAt === state.startedAt) rmSync(file, { force: true });
  };
}

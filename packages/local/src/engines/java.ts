import { execFile } from 'node:child_process';
import { EngineError } from './errors';

export const MIN_JAVA_VERSION = 17;

export interface JavaOptions {
  /** The Java launcher to run; found on `env.PATH` when not a path. Default `java`. */
  javaCommand?: string;
  /** Environment for the launcher (its PATH decides which `java` runs). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const INSTALL_HINT = 'install it (e.g. apt-get install openjdk-17-jre-headless) and try again';

/**
 * Reads the major version from `java -version` output:
 * `openjdk version "17.0.15" …` → 17, `java version "1.8.0_392"` → 8, `openjdk version "21-ea"` → 21.
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 && match[2] !== undefined ? Number(match[2]) : major;
}

/** Resolves the Java major version, or throws an EngineError sentence saying what to install. */
export async function checkJava({ javaCommand = 'java', env = process.env }: JavaOptions = {}): Promise<number> {
  const output = await new Promise<string | undefined>((resolve) => {
    execFile(javaCommand, ['-version'], { env, timeout: 15_000 }, (error, stdout, stderr) => {
      // `java -version` prints to stderr; a missing launcher is ENOENT, a broken one a non-zero exit.
      resolve(error ? undefined : `${stderr}\n${stdout}`);
    });
  });
  if (output === undefined) {
    throw new EngineError(`Java ${MIN_JAVA_VERSION} or newer is needed to run DynamoDB Local; ${INSTALL_HINT}.`);
  }
  const major = parseJavaMajorVersion(output);
  if (major === undefined) {
    throw new EngineError(
      `Java ${MIN_JAVA_VERSION} or newer is needed to run DynamoDB Local, but \`${javaCommand} -version\` did not report a version; ${INSTALL_HINT}.`,
    );
  }
  if (major < MIN_JAVA_VERSION) {
    throw new EngineError(
      `Java ${MIN_JAVA_VERSION} or newer is needed to run DynamoDB Local, but \`${javaCommand}\` is Java ${major}; ${INSTALL_HINT}.`,
    );
  }
  return major;
}

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Runs one of the repository's command-line tools (a TypeScript file, path from the repository
 * root) as a person would, in its own Node process. Never throws: returns what the person sees,
 * and the JSON the tool printed on its last stdout line.
 */
export async function runTool(script: string, args: string[], env: Record<string, string | undefined>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr, result: JSON.parse(stdout.trim().split('\n').at(-1)!) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, result: undefined };
  }
}

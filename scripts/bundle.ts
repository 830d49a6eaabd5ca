/**
 * How a Lambda handler is bundled, the way SST does it (esbuild: ESM, minified, the AWS SDK
 * bundled, target Node 22). Shared by `npm run build`, `scripts/bundle-report.ts` and the bench's
 * cold-start scenario, whose floor bundles are built with the same options.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

export const root = join(import.meta.dirname, '..');
export const handlersDir = join(root, 'packages/functions/src/handlers');

/** Largest bundle allowed per handler, in KB (1 KB = 1,000 bytes). */
export const budget: Record<string, number> = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(join(root, 'scripts/bundle-budget.json'), 'utf8')) as Record<string, unknown>).filter(
    (e): e is [string, number] => !e[0].startsWith('//'),
  ),
);
export const handlerNames = Object.keys(budget);

/**
 * Left out of every bundle: zod, which hono-openapi's schema converter imports only for zod
 * schemas (ours are valibot), so it is never loaded. infra/ says the same to SST.
 */
export const neverLoaded = ['zod'];

/** Packages installed beside a bundle instead of bundled (infra: `nodejs.install`). */
export const installed: Record<string, string[]> = { api: ['swagger-ui-dist'] };

// What SST's Node.js builder adds to ESM bundles: CommonJS dependencies may `require` built-ins.
const banner = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from 'url';`,
  `const __filename = topLevelFileUrlToPath(import.meta.url);`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL('.', import.meta.url));`,
].join('\n');

/** Bundles `entry` (a file, or `stdin` contents resolved from `resolveDir`) to `outfile`; returns esbuild's metafile. */
export async function bundle(
  entry: string | { contents: string; resolveDir: string },
  outfile: string,
  external: string[] = neverLoaded,
): Promise<Metafile> {
  const options: BuildOptions = {
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { ...entry, loader: 'ts', sourcefile: 'entry.ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    external,
    banner: { js: banner },
    logLevel: 'warning',
    metafile: true,
  };
  return (await build(options)).metafile!;
}

/** Bundles one of `packages/functions/src/handlers/<name>.ts` as infra/ deploys it. */
export const bundleHandler = (name: string, outfile: string): Promise<Metafile> =>
  bundle(join(handlersDir, `${name}.ts`), outfile, [...(installed[name] ?? []), ...neverLoaded]);

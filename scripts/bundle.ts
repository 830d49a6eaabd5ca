/**
 * How a Lambda handler is bundled, the way SST does it (esbuild: ESM, minified, the AWS SDK
 * bundled, target Node 22; the API split into chunks loaded on demand). Shared by `npm run build`,
 * `scripts/bundle-report.ts` and the bench's cold-start scenario, whose floor bundles are built
 * with the same options.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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

/**
 * Handlers bundled with code splitting (infra: `nodejs.splitting`): each `import()` of a group of
 * routes becomes a chunk of its own, loaded by the first request that needs it (api/app.ts).
 * The others are one file: splitting would only move the SDK's rarely used credential providers
 * out of INIT, for the handler and its floor alike.
 */
export const splitHandlers = ['api', 'sender'];

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

/**
 * Bundles `entry` (a file, or `stdin` contents resolved from `resolveDir`) into `outdir`, its entry
 * as `index.mjs` (with `splitting`, the chunks beside it); returns esbuild's metafile.
 */
export async function bundle(
  entry: string | { contents: string; resolveDir: string },
  outdir: string,
  { external = neverLoaded, splitting = false }: { external?: string[]; splitting?: boolean } = {},
): Promise<Metafile> {
  const options: BuildOptions = {
    ...(typeof entry === 'string' ? { entryPoints: { index: entry } } : { stdin: { ...entry, loader: 'ts', sourcefile: 'index.ts' } }),
    outdir,
    outExtension: { '.js': '.mjs' },
    entryNames: 'index',
    chunkNames: '[name]-[hash]',
    splitting,
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

/** Bundles one of `packages/functions/src/handlers/<name>.ts` into `outdir` as infra/ deploys it. */
export const bundleHandler = (name: string, outdir: string): Promise<Metafile> =>
  bundle(join(handlersDir, `${name}.ts`), outdir, { external: [...(installed[name] ?? []), ...neverLoaded], splitting: splitHandlers.includes(name) });

/** A chunk loaded on demand by a first request: a group of routes (an `import()` of the repository's code). */
export interface LazyGroup {
  /** The module the chunk starts from, relative to the repository. */
  source: string;
  /** The chunk's file. */
  file: string;
  /** What a first request of the group loads besides INIT: the chunk and the chunks it imports. */
  bytes: number;
}

/** What a bundle loads at INIT, what a first request of each group loads more, and the whole. */
export interface BundleSizes {
  /** The entry (`index.mjs`), which Lambda imports at INIT. */
  entry: string;
  /** The entry and the chunks it imports statically: what INIT loads. */
  initBytes: number;
  /** Every file of the bundle, the chunks no request may ever load included. */
  totalBytes: number;
  /** The groups of routes, heaviest first. */
  groups: LazyGroup[];
}

/** Reads a bundle's sizes from its metafile (paths in it are relative to the working directory). */
export function bundleSizes(meta: Metafile, outdir: string): BundleSizes {
  const { outputs } = meta;
  const at = (path: string) => join(process.cwd(), path);
  const entryKey = Object.keys(outputs).find((path) => at(path) === join(outdir, 'index.mjs'))!;
  const closure = (from: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(from)) return seen;
    seen.add(from);
    for (const { path, kind } of outputs[from]!.imports) if (kind === 'import-statement' && path in outputs) closure(path, seen);
    return seen;
  };
  const bytesOf = (paths: Iterable<string>) => [...paths].reduce((sum, path) => sum + outputs[path]!.bytes, 0);
  const init = closure(entryKey);
  const groups = Object.entries(outputs)
    .filter(([path, output]) => path !== entryKey && output.entryPoint?.startsWith(relative(process.cwd(), join(root, 'packages'))))
    .map(([path, output]): LazyGroup => ({ source: relative(root, at(output.entryPoint!)), file: at(path), bytes: bytesOf([...closure(path)].filter((p) => !init.has(p))) }))
    .sort((a, b) => b.bytes - a.bytes);
  return { entry: at(entryKey), initBytes: bytesOf(init), totalBytes: bytesOf(Object.keys(outputs).filter((p) => p.endsWith('.mjs'))), groups };
}

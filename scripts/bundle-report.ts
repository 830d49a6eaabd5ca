/**
 * `npx tsx scripts/bundle-report.ts [handler…] [--top N] [--why TEXT]`: what fills each handler's
 * bundle, from esbuild's metafile: the largest packages (node_modules grouped by package, the
 * repository by package directory) and the largest single inputs, in minified bytes; with `--why`,
 * the chain of imports that brings in the first input whose path contains TEXT. Bundles to a
 * temporary directory with the options `npm run build` uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { bundleHandler, bundleSizes, handlerNames } from './bundle';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 12;
const whyAt = args.indexOf('--why');
const why = whyAt >= 0 ? args.splice(whyAt, 2)[1] : undefined;
const names = args.length ? args : handlerNames;

/**
 * The shortest chain of imports from the entry point to an input of the bundle whose path contains
 * `text` (`kept`: esbuild also lists modules it read and dropped). A chain may pass through a
 * barrel (`index.ts`), which adds no bytes and so is not among the kept ones.
 */
function importChain(meta: Metafile, kept: Record<string, unknown>, entry: string, text: string): string[] | undefined {
  const from = new Map<string, string>([[entry, '']]);
  for (const queue = [entry]; queue.length; ) {
    const path = queue.shift()!;
    if (path.includes(text) && path in kept) {
      const chain = [path];
      while (from.get(chain[0]!)) chain.unshift(from.get(chain[0]!)!);
      return chain;
    }
    for (const { path: next } of meta.inputs[path]?.imports ?? []) if (!from.has(next)) from.set(next, path), queue.push(next);
  }
  return undefined;
}

/** The package an input belongs to: `@scope/name` or `name` under node_modules, else `packages/<x>/src/<dir>`. */
function packageOf(path: string): string {
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const [first, second] = path.slice(nm + 'node_modules/'.length).split('/');
    return first!.startsWith('@') ? `${first}/${second}` : first!;
  }
  return path.split('/').slice(0, 4).join('/');
}

const kb = (n: number) => `${(n / 1000).toFixed(1).padStart(7)} KB`;
const dir = mkdtempSync(join(tmpdir(), 'rapport-bundle-report-'));
try {
  for (const name of names) {
    const meta = await bundleHandler(name, join(dir, name));
    // A split bundle: the inputs of every chunk, each chunk's size listed after.
    const outputs = Object.values(meta.outputs);
    const inputs = outputs.flatMap((o) => Object.entries(o.inputs).map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput })));
    const byPackage = new Map<string, number>();
    for (const { path, bytes } of inputs) byPackage.set(packageOf(path), (byPackage.get(packageOf(path)) ?? 0) + bytes);
    const sizes = bundleSizes(meta, join(dir, name));
    console.log(`${name}: INIT ${kb(sizes.initBytes).trim()}, all ${kb(sizes.totalBytes).trim()}, ${inputs.length} inputs`);
    for (const g of sizes.groups) console.log(`  ${kb(g.bytes)}  more on a first request of ${g.source}`);
    console.log('  largest packages:');
    for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kb(bytes)}  ${pkg}`);
    console.log('  largest inputs:');
    for (const { path, bytes } of inputs.sort((a, b) => b.bytes - a.bytes).slice(0, top)) console.log(`  ${kb(bytes)}  ${path}`);
    if (why) {
      const entry = outputs.find((o) => o.entryPoint?.endsWith(`handlers/${name}.ts`))!.entryPoint!;
      const chain = importChain(meta, Object.fromEntries(inputs.map((i) => [i.path, i])), entry, why);
      console.log(`  why ${why}:${chain ? chain.map((p) => `\n    ${p}`).join('') : ' not in this bundle'}`);
    }
    console.log();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

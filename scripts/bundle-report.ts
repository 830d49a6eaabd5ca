/**
 * `npx tsx scripts/bundle-report.ts [handler…] [--top N]`: what fills each handler's bundle, from
 * esbuild's metafile: the largest packages (node_modules grouped by package, the repository by
 * package directory) and the largest single inputs, in minified bytes. Bundles to a temporary
 * directory with the options `npm run build` uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleHandler, handlerNames } from './bundle';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 12;
const names = args.length ? args : handlerNames;

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
    const meta = await bundleHandler(name, join(dir, name, 'index.mjs'));
    const [output] = Object.values(meta.outputs);
    const inputs = Object.entries(output!.inputs).map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }));
    const byPackage = new Map<string, number>();
    for (const { path, bytes } of inputs) byPackage.set(packageOf(path), (byPackage.get(packageOf(path)) ?? 0) + bytes);
    console.log(`${name}: ${kb(output!.bytes).trim()}, ${inputs.length} inputs`);
    console.log('  largest packages:');
    for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kb(bytes)}  ${pkg}`);
    console.log('  largest inputs:');
    for (const { path, bytes } of inputs.sort((a, b) => b.bytes - a.bytes).slice(0, top)) console.log(`  ${kb(bytes)}  ${path}`);
    console.log();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

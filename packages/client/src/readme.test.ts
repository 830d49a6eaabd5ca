import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The README's ```ts blocks, in order (the TypeScript tour). */
const tsBlocks = () => [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

/**
 * Type-checks each text as a module of its own in packages/client/src, with the repository's
 * compiler options (strict, noUncheckedIndexedAccess…), `@rapport/client` resolved as a user's
 * import resolves it. The modules are held in memory: nothing is written to the repository.
 * Returns the compiler's messages, one line each, with the line in the block.
 */
function typeCheck(texts: string[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } })!;
  const files = new Map(texts.map((text, i) => [join(root, `packages/client/src/README.block-${i + 1}.ts`), text]));
  const host = ts.createCompilerHost(config.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = files.get(name);
    return text === undefined ? getSourceFile.call(host, name, language, ...rest) : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options: config.options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.slice(root.length)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
    return `${where}TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe("the README's TypeScript tour", () => {
  it('type-checks against @rapport/client as written', () => {
    const blocks = tsBlocks();
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain("import { createRapportClient } from '@rapport/client';");
    expect(typeCheck(blocks)).toEqual([]);
  }, 60_000);

  it('would fail on a path, a body field or a query value the API does not have', () => {
    const [block] = tsBlocks();
    const broken = [
      block!.replace("rapport.POST('/v1/pros'", "rapport.POST('/v1/pro'"),
      block!.replace("name: 'Spring Launch'", "title: 'Spring Launch'"),
      block!.replace("granularity: 'total'", "granularity: 'year'"),
    ];
    expect(broken.every((b) => b !== block)).toBe(true);
    const messages = typeCheck(broken);
    // One message at least for each broken copy, and on the line that was changed.
    for (const [i, marker] of ["'/v1/pro'", "title: 'Spring Launch'", "granularity: 'year'"].entries()) {
      const line = broken[i]!.slice(0, broken[i]!.indexOf(marker)).split('\n').length;
      expect(messages.filter((m) => m.startsWith(`packages/client/src/README.block-${i + 1}.ts:`)).map((m) => Number(m.split(/[: ]/)[1]))).toContain(line);
    }
  }, 60_000);
});

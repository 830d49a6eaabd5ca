/// <reference path="./.sst/platform/config.d.ts" />

// The AWS deployment. It stays minimal until the deployment issue: today it declares the table.
export default $config({
  app(input) {
    return {
      name: 'rapport',
      home: 'aws',
      // Production data outlives a `sst remove`; other stages clean up after themselves.
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
    };
  },
  async run() {
    const { table } = await import('./infra/table');
    return { table: table.name };
  },
});

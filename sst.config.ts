/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The AWS deployment: `npx sst deploy --stage production`. Each file in `infra/` declares one
 * concern and says who may use each resource and why; `stacks/` holds the per-stage settings.
 * Nothing here can be deployed from the development machines; `npm run check:infra` type-checks
 * it against SST's own component types and `npm run build` bundles the handlers as SST does.
 */
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
    const { setFunctionDefaults } = await import('./infra/functions');
    setFunctionDefaults();
    const { table } = await import('./infra/table');
    const { email, sesEvents, sesEventDeadLetters } = await import('./infra/email');
    const { sendQueue, deadLetters, subscribeSender } = await import('./infra/sender');
    const { api, publicUrl } = await import('./infra/api');
    subscribeSender(publicUrl);
    const { exportFunction } = await import('./infra/export');
    const { scheduledJob } = await import('./infra/jobs');
    return {
      url: publicUrl,
      api: api.url,
      exportUrl: exportFunction.url,
      table: table.name,
      sendQueue: sendQueue.url,
      deadLetters: deadLetters.url,
      sesEvents: sesEvents.arn,
      sesEventDeadLetters: sesEventDeadLetters.url,
      emailIdentity: email.sender,
      configurationSet: email.configSet,
      scheduledJob: scheduledJob.nodes.schedule.name,
    };
  },
});

import { settingsFor } from '../stacks';

/** This stage's settings (`stacks/`), validated before any resource is declared. */
export const settings = settingsFor($app.stage);

/** Where the code of the Lambda handlers lives; each handler is a few lines over `packages/core`. */
export const handlers = 'packages/functions/src/handlers';

/** Variables every function reads (resources come through links, see `handlers/runtime.ts`). */
export const commonEnvironment = {
  POWERTOOLS_SERVICE_NAME: 'rapport',
  POWERTOOLS_LOG_LEVEL: settings.logLevel,
  MAIL_FROM: settings.email.from,
  SEND_RATE_PER_SECOND: String(settings.sending.ratePerSecond),
};

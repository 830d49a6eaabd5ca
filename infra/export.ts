import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

/**
 * The CSV export, streamed: `GET <url>/v1/responses.csv` with the same API key and parameters as
 * the API. The HTTP API cannot stream (its function buffers a response, and Lambda caps that at
 * 6 MB), so this function sits behind a Function URL in RESPONSE_STREAM mode (`streaming: true`)
 * and serves that one route (`handlers/export.ts`). The URL has no IAM auth: the app checks the
 * API key and counts the request as the API does. Linked to the table only; a large export may
 * read for minutes, which a Function URL allows (API Gateway stops at 29 s).
 */
export const exportFunction = new sst.aws.Function('ExportFunction', {
  handler: `${handlers}/export.handler`,
  link: [table],
  environment: { ...commonEnvironment, API_RATE_LIMIT_PER_MINUTE: String(settings.apiRateLimitPerMinute) },
  streaming: true,
  url: true,
  memory: '1024 MB',
  timeout: '15 minutes',
});

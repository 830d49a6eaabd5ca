import { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import { apiErrors } from '../api/base-app';
import { createExportApp } from '../api/export-app';
import { clientAddress } from '../client-address';
import { lambdaConfig, lambdaDb, now } from './runtime';

let app: ReturnType<typeof createExportApp> | undefined;

/**
 * The CSV export behind a Lambda Function URL in RESPONSE_STREAM mode (`infra/export.ts`): the
 * file leaves as its pages are read, where the API's function buffers a response and Lambda caps it
 * at 6 MB. Same API keys, errors and bytes as the API's route. `streamHandle` wraps the handler with
 * the Node.js runtime's `awslambda.streamifyResponse`, which must happen when the module loads; the
 * app, its config and its table client are made by the first request, as the API's are.
 */
export const handler = streamHandle(
  apiErrors(new Hono()).all('*', (c) => (app ??= createExportApp({ config: lambdaConfig(), db: lambdaDb(), now, clientAddress })).fetch(c.req.raw, c.env)),
);

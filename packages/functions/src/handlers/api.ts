import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
// Hono's AWS Lambda adapter (to move to `@hono/aws-lambda` once that package is published).
import { handle } from 'hono/aws-lambda';
import { createApp } from '../api/app';
import { logger } from '../logger';
import { appDeps } from '../app-deps';
import { lambdaConfig, lambdaDb, lambdaQueue } from './runtime';

let serve: ReturnType<typeof handle> | undefined;

/**
 * The API and the public pages: the same Hono app as the local runner, behind an API Gateway HTTP
 * API (payload format 2.0). Nothing of the request is logged here; the app maps errors to
 * problem+json and logs unexpected ones without the request.
 */
export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  // The app's deps: everything, with send jobs going to SQS.
  serve ??= handle(createApp(appDeps(lambdaConfig(), { db: lambdaDb(), queue: { enqueue: (jobs) => lambdaQueue().enqueue(jobs) } })));
  // Hono has event types of its own, stricter than what API Gateway sends (a `requestContext.authorizer`
  // that only comes with an authorizer; `body: null` rather than absent). For a 2.0 event it answers
  // single-valued headers, with cookies in `cookies`, as the HTTP API expects.
  const request = { ...event, body: event.body ?? null } as unknown as Parameters<typeof serve>[0];
  return (await serve(request, context)) as APIGatewayProxyStructuredResultV2;
}

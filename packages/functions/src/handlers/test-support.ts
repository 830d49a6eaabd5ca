/**
 * Test support for the Lambda handlers (imported by tests only, never by a handler): a Lambda
 * context, and a small SQS endpoint that speaks the AWS JSON protocol the real `SQSClient` uses, so
 * the SQS adapter is exercised through the SDK's own serialisation and checksum validation.
 * (There is no SQS engine to run here the way DynamoDB Local and the SES server run.)
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '@rapport/core';

export function lambdaContext(functionName = 'rapport-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** An SQS event as Lambda delivers it for these message bodies. */
export function sqsEvent(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map(
      (body): SQSRecord => ({
        messageId: randomUUID(),
        receiptHandle: `handle-${randomUUID()}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:rapport-test-SendQueue',
        awsRegion: 'us-east-1',
      }),
    ),
  };
}

export interface FakeSqs {
  endpoint: string;
  queueUrl: string;
  /** Bodies of the messages accepted, in order. */
  bodies: string[];
  /** The messages accepted, in order, with their delay and attributes as sent. */
  messages: { body: string; delaySeconds?: number; attributes?: Record<string, { DataType: string; StringValue?: string }> }[];
  /** Entries the next SendMessageBatch calls refuse, by body (one refusal each). */
  refuseOnce: Set<string>;
  requests: number;
  close(): Promise<void>;
}

const read = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** A loopback SQS endpoint that accepts SendMessageBatch and remembers what it was sent. */
export async function startFakeSqs(): Promise<FakeSqs> {
  const state = { bodies: [] as string[], messages: [] as FakeSqs['messages'], refuseOnce: new Set<string>(), requests: 0 };
  const server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse((await read(req)) || '{}');
    state.requests++;
    res.setHeader('Content-Type', 'application/x-amz-json-1.0');
    if (target !== 'AmazonSQS.SendMessageBatch') {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: `Not faked: ${target}` }));
      return;
    }
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of input.Entries as { Id: string; MessageBody: string; DelaySeconds?: number; MessageAttributes?: FakeSqs['messages'][number]['attributes'] }[]) {
      if (state.refuseOnce.delete(entry.MessageBody)) {
        Failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'Try again' });
        continue;
      }
      state.bodies.push(entry.MessageBody);
      state.messages.push({ body: entry.MessageBody, ...(entry.DelaySeconds !== undefined ? { delaySeconds: entry.DelaySeconds } : {}), ...(entry.MessageAttributes ? { attributes: entry.MessageAttributes } : {}) });
      const md5 = createHash('md5').update(entry.MessageBody).digest('hex');
      Successful.push({ Id: entry.Id, MessageId: randomUUID(), MD5OfMessageBody: md5 });
    }
    res.end(JSON.stringify({ Successful, Failed }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    endpoint,
    queueUrl: `${endpoint}/123456789012/rapport-test-SendQueue`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/**
 * The environment a deployed handler reads (`handlers/runtime.ts`), pointed at the local engines
 * and this fake SQS; `extra` adds or overrides settings. Call `resetLambdaDeps()` after applying it.
 */
export function lambdaEnv(config: Config, sqs: Pick<FakeSqs, 'queueUrl' | 'endpoint'>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SEND_QUEUE_URL: sqs.queueUrl,
    SQS_ENDPOINT: sqs.endpoint,
    TABLE_NAME: config.table,
    DYNAMODB_ENDPOINT: config.dynamoEndpoint!,
    SES_ENDPOINT: config.sesEndpoint!,
    AWS_REGION: config.region,
    PUBLIC_URL: config.publicUrl,
    LINK_SECRET: config.linkSecret!,
    ...extra,
  };
}

import { Writable } from 'node:stream';
import type { Context } from 'aws-lambda';

/**
 * A stand-in for the part of the Lambda Node.js runtime that response streaming uses: the global
 * `awslambda` (`streamifyResponse`, `HttpResponseStream.from`) and the response stream it hands to
 * the handler. The runtime itself cannot run here; this follows its client
 * (aws-lambda-nodejs-runtime-interface-client): `streamifyResponse` marks the handler,
 * `HttpResponseStream.from` sets the stream's content type to the HTTP integration type and, before
 * the first write, sends the JSON prelude (status, headers, cookies) and eight NUL bytes, which the
 * Function URL turns into the HTTP status line and headers.
 */
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = new Uint8Array(8);

/** The runtime's response stream: what is written reaches the client at once (recorded here). */
class ResponseStream extends Writable {
  contentType = 'application/octet-stream';
  /** Every write, in the order it left. */
  readonly writes: Buffer[] = [];
  _onBeforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;

  setContentType(type: string) {
    this.contentType = type;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    if (this._onBeforeFirstWrite) {
      const first = this._onBeforeFirstWrite;
      this._onBeforeFirstWrite = undefined;
      first((c) => this.writes.push(Buffer.from(c)));
    }
    this.writes.push(Buffer.from(chunk));
    callback();
  }
}

export function installLambdaStreamingRuntime(): void {
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: <H extends object>(handler: H) => Object.assign(handler, { [HANDLER_STREAMING]: STREAM_RESPONSE }),
    HttpResponseStream: {
      from(stream: ResponseStream, prelude: Record<string, unknown>) {
        stream.setContentType(PRELUDE_CONTENT_TYPE);
        const json = JSON.stringify(prelude);
        stream._onBeforeFirstWrite = (write) => {
          write(json);
          write(DELIMITER);
        };
        return stream;
      },
    },
  };
}

export interface StreamedResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  /** The body's bytes, as the client gets them. */
  body: Buffer;
  /** The body's writes, one per chunk the handler sent (each reaches the client as it is written). */
  bodyWrites: number;
}

/**
 * Invokes a streaming handler as the runtime does, and reads the response as a Function URL would:
 * the prelude up to the eight NUL bytes, then the body.
 */
export async function invokeStreaming(handler: unknown, event: unknown, context: Context): Promise<StreamedResponse> {
  if ((handler as Record<symbol, unknown>)[HANDLER_STREAMING] !== STREAM_RESPONSE) throw new Error('the handler is not wrapped with awslambda.streamifyResponse');
  const stream = new ResponseStream();
  const finished = new Promise<void>((resolve, reject) => stream.on('finish', resolve).on('error', reject));
  await (handler as (e: unknown, s: ResponseStream, c: Context) => Promise<unknown>)(event, stream, context);
  await finished;
  if (stream.contentType !== PRELUDE_CONTENT_TYPE) throw new Error(`the handler sent no HTTP prelude (content type ${stream.contentType})`);
  const all = Buffer.concat(stream.writes);
  const cut = all.indexOf(Buffer.from(DELIMITER));
  const prelude = JSON.parse(all.subarray(0, cut).toString('utf8')) as { statusCode: number; headers?: Record<string, string>; cookies?: string[] };
  return {
    statusCode: prelude.statusCode,
    headers: prelude.headers ?? {},
    cookies: prelude.cookies ?? [],
    body: all.subarray(cut + DELIMITER.length),
    // The first two writes are the prelude and the delimiter.
    bodyWrites: stream.writes.slice(2).filter((w) => w.length > 0).length,
  };
}

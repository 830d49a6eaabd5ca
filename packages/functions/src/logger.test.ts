import { describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './handlers/test-support';
import { errorFields, logger } from './logger';

describe('errorFields', () => {
  it('keeps the class and message of an error, masking addresses and API keys it may quote', () => {
    const error = new TypeError('a pro with "Jane <jane.doe@acme.example>" exists; key rpk_abc-DEF_123 refused');
    expect(errorFields(error)).toEqual({ error: { name: 'TypeError', message: 'a pro with "Jane <[redacted]>" exists; key [redacted] refused' } });
    expect(errorFields('plain')).toEqual({ error: { name: 'Error', message: 'plain' } });
  });
});

describe('logger', () => {
  it('writes one JSON line a call, INFO to stdout and ERROR to stderr, with the invocation it was given (cold start once) and the fields; nothing below its level', () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    const level = logger.getLevelName();
    try {
      logger.setLogLevel('INFO');
      const [first, second] = [lambdaContext('rapport-sender'), lambdaContext('rapport-sender')];
      logger.addContext(first);
      logger.debug('not written');
      logger.info('send job done', { roundId: 'rnd_1', outcome: 'sent' });
      logger.addContext(second);
      logger.error('send job failed', errorFields(new Error('boom')));
      expect(out.every((line) => line.endsWith('\n'))).toBe(true);
      const invocation = { service: 'rapport', function_name: 'rapport-sender', function_arn: first.invokedFunctionArn, function_memory_size: 512 };
      expect(out.map((line) => JSON.parse(line))).toEqual([
        { level: 'INFO', message: 'send job done', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ...invocation, cold_start: true, function_request_id: first.awsRequestId, roundId: 'rnd_1', outcome: 'sent' },
      ]);
      expect(err.map((line) => JSON.parse(line))).toEqual([
        { level: 'ERROR', message: 'send job failed', timestamp: expect.any(String), ...invocation, cold_start: false, function_request_id: second.awsRequestId, error: { name: 'Error', message: 'boom' } },
      ]);
    } finally {
      logger.setLogLevel(level);
      vi.restoreAllMocks();
    }
  });
});

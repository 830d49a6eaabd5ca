import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { serveOnFreePort } from '@rapport/testing';
import { addressBucket, clientAddress } from './client-address';

const echo = new Hono().get('/ip', (c) => c.text(clientAddress(c)));

/** An API Gateway HTTP API (payload 2.0) event, as Lambda receives it. */
const httpApiEvent = (sourceIp: string, headers: Record<string, string>) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/ip',
  rawQueryString: '',
  headers: { host: 'api.example', ...headers },
  requestContext: {
    accountId: '123456789012',
    apiId: 'api',
    domainName: 'api.example',
    domainPrefix: 'api',
    http: { method: 'GET', path: '/ip', protocol: 'HTTP/1.1', sourceIp, userAgent: 'test' },
    requestId: 'id',
    routeKey: '$default',
    stage: '$default',
    time: '03/Mar/2031:10:00:00 +0000',
    timeEpoch: 1930381200000,
  },
  isBase64Encoded: false,
});

describe('the client address', () => {
  it("is API Gateway's sourceIp on Lambda, whatever X-Forwarded-For says", async () => {
    const result = (await handle(echo)(httpApiEvent('203.0.113.9', { 'x-forwarded-for': '198.51.100.1' }) as never, {} as never)) as { body: string };
    expect(result.body).toBe('203.0.113.9');
  });

  it("is the socket's peer under the Node.js server, whatever X-Forwarded-For says", async () => {
    const server = await serveOnFreePort(echo.fetch);
    try {
      const res = await fetch(`${server.url}/ip`, { headers: { 'X-Forwarded-For': '198.51.100.1' } });
      expect(['127.0.0.1', '::ffff:127.0.0.1']).toContain(await res.text());
    } finally {
      await server.close();
    }
  });

  it('is "unknown" when the platform gives none (app.request), and headers do not change that', async () => {
    expect(await (await echo.request('/ip', { headers: { 'X-Forwarded-For': '198.51.100.1', 'X-Real-IP': '198.51.100.2' } })).text()).toBe('unknown');
  });

  it("is limited as the IPv4 address, or the IPv6 address's /64", () => {
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('2001:db8:1::')).toBe('2001:db8:1:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('unknown')).toBe('unknown');
  });
});

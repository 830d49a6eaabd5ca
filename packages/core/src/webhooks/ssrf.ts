import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isForbiddenAddress, isLoopbackAddress } from './address';

/** Resolves a host name to every address it has (the worker's DNS; tests inject a stub). */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** How long an endpoint has to answer, connection included. */
export const DELIVERY_TIMEOUT_MS = 15_000;

export type PostOutcome = { statusCode: number; retryAfter: string | null } | { error: string };

/**
 * POSTs a webhook without letting the URL reach inside: the host is resolved here, and refused
 * if any of its addresses is private, loopback, link-local or metadata (one good address among bad
 * ones is still refused: which one a client picks is not ours to choose); the connection then goes
 * to the address checked, with the host name kept for TLS (SNI and certificate) and the `Host`
 * header, so a second resolution (DNS rebinding) cannot swap it. No redirect is followed: a 3xx is
 * an answer like any other non-2xx. `allowLoopback` lets loopback addresses through (local runner, tests).
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  { resolve = systemResolve, allowLoopback = false, timeoutMs = DELIVERY_TIMEOUT_MS }: { resolve?: Resolve | undefined; allowLoopback?: boolean; timeoutMs?: number } = {},
): Promise<PostOutcome> {
  const target = new URL(url);
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(hostname) ? [{ address: hostname, family: isIP(hostname) }] : await resolve(hostname);
  } catch (error) {
    return { error: `could not resolve the host (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})` };
  }
  if (addresses.length === 0) return { error: 'could not resolve the host' };
  if (addresses.some(({ address }) => isForbiddenAddress(address) && !(allowLoopback && isLoopbackAddress(address)))) {
    return { error: 'refused: the host resolves to a private, loopback, link-local or metadata address' };
  }
  const pinned = addresses[0]!;
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((settle) => {
    const req = request({
      host: pinned.address,
      family: pinned.family,
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: { ...headers, host: target.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Rapport-Webhooks/1.0' },
      ...(isIP(hostname) ? {} : { servername: hostname }),
      agent: false,
    });
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: PostOutcome) => {
      clearTimeout(timer);
      settle(outcome);
    };
    timer = setTimeout(() => {
      finish({ error: `no answer within ${timeoutMs / 1000} s` });
      req.destroy();
    }, timeoutMs);
    req.on('response', (res: IncomingMessage) => {
      const retryAfter = res.headers['retry-after'];
      const outcome = { statusCode: res.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null };
      // The answer's body is not kept: read and dropped, so the socket closes cleanly.
      res.on('error', () => finish(outcome));
      res.on('end', () => finish(outcome));
      res.resume();
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: `could not connect (${error.code ?? error.message})` }));
    req.end(body);
  });
}

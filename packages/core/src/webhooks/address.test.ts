import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkWebhookUrl, isForbiddenAddress } from './address';

/** Addresses inside: loopback, private, link-local (metadata), "this network", CGNAT. */
const insideV4 = fc.oneof(
  fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), fc.nat(255), fc.nat(255)),
  fc.tuple(fc.constant(0), fc.nat(255), fc.nat(255), fc.nat(255)),
);

const hex16 = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);

/** Ways a URL can spell an IPv4 address that parsers (WHATWG's, and resolvers') read as that address. */
const spellings = ([a, b, c, d]: number[]) => {
  const n = ((a! << 24) >>> 0) + (b! << 16) + (c! << 8) + d!;
  return [
    `${a}.${b}.${c}.${d}`,
    `${a}.${b}.${c}.${d}.`,
    String(n),
    `0x${n.toString(16)}`,
    `0${n.toString(8)}`,
    `0x${a!.toString(16)}.${(b! << 16) + (c! << 8) + d!}`,
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `[::ffff:${hex16(a!, b!)}:${hex16(c!, d!)}]`,
    `[0:0:0:0:0:ffff:${hex16(a!, b!)}:${hex16(c!, d!)}]`,
    `[::ffff:0:${hex16(a!, b!)}:${hex16(c!, d!)}]`,
    `[64:ff9b::${hex16(a!, b!)}:${hex16(c!, d!)}]`,
    // 6to4: the IPv6 address of the IPv4 one (2002:AABB:CCDD::/48).
    `[2002:${hex16(a!, b!)}:${hex16(c!, d!)}::1]`,
  ];
};

describe('Webhook URLs', () => {
  it('refuses an address inside, however it is spelt (decimal, hex, octal, trailing dot, mapped, NAT64, 6to4)', () => {
    fc.assert(
      fc.property(insideV4, fc.constantFrom('', ':443', ':8080'), (v4, port) => {
        for (const host of spellings(v4)) {
          expect(() => checkWebhookUrl(`https://${host}${port}/hook`, { allowLoopback: false }), host).toThrow(/private, loopback/);
        }
      }),
    );
  });

  it.each(['https://localhost./', 'https://localhost%2e/', 'https://foo.localhost./', 'https://LocalHost./x'])('refuses %s: localhost with a trailing dot is localhost', (url) => {
    expect(() => checkWebhookUrl(url, { allowLoopback: false })).toThrow(/localhost/);
  });

  it('judges 6to4 and Teredo addresses a resolver answers as what they carry or refuses them', () => {
    expect(isForbiddenAddress('2002:7f00:1::')).toBe(true);
    expect(isForbiddenAddress('2002:a9fe:a9fe::1')).toBe(true);
    expect(isForbiddenAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toBe(true);
    expect(isForbiddenAddress('2002:5db8:d822::1')).toBe(false);
    expect(isForbiddenAddress('2606:4700::6810:84e5')).toBe(false);
  });
});

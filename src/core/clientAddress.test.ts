import { describe, expect, it } from 'vitest';
import { addressKey, clientIp, viaTls } from './clientAddress.ts';

describe('clientIp', () => {
  it('[H13] ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '1.2.3.4', trustProxyHops: 0 })).toBe('10.0.0.2');
    expect(clientIp({ peer: '10.0.0.2', trustProxyHops: 1 })).toBe('10.0.0.2');
  });

  it('[H13] takes the entry the trusted hops vouch for, never one the client wrote itself', () => {
    // The client forged "6.6.6.6"; the one proxy appended the real client 1.2.3.4.
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '6.6.6.6, 1.2.3.4', trustProxyHops: 1 })).toBe('1.2.3.4');
    // Two proxies: CDN appended the client, the load balancer appended the CDN.
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '6.6.6.6, 1.2.3.4, 172.16.0.9', trustProxyHops: 2 })).toBe('1.2.3.4');
    // More hops than entries: the leftmost (the best there is).
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '1.2.3.4', trustProxyHops: 5 })).toBe('1.2.3.4');
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '[2001:db8::1]:4711', trustProxyHops: 1 })).toBe('2001:db8::1');
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '1.2.3.4:5678', trustProxyHops: 1 })).toBe('1.2.3.4');
  });
});

describe('addressKey', () => {
  it('[H13] keys IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('not an ip')).toBe('not an ip');
    expect(addressKey('1:2:3:4:5:6:7:8:9')).toBe('1:2:3:4:5:6:7:8:9');
  });
});

describe('viaTls', () => {
  it('[H12] believes X-Forwarded-Proto only from trusted proxies', () => {
    expect(viaTls({ encrypted: true, trustProxyHops: 0 })).toBe(true);
    expect(viaTls({ encrypted: false, forwardedProto: 'https', trustProxyHops: 0 })).toBe(false);
    expect(viaTls({ encrypted: false, forwardedProto: 'https', trustProxyHops: 1 })).toBe(true);
    expect(viaTls({ encrypted: false, forwardedProto: 'http', trustProxyHops: 1 })).toBe(false);
    expect(viaTls({ encrypted: false, forwardedProto: 'https, http', trustProxyHops: 2 })).toBe(true);
  });
});

import { clientKey } from './client-key';

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1::', '2001:db8:1:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2::ffff:192.0.2.1', '2001:db8:1:2::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('gives every address of one /64 the same key, and neighbouring /64s different ones', () => {
    const keys = new Set(Array.from({ length: 100 }, (_, i) => clientKey(`2001:db8:aa:bb:${i.toString(16)}::${i}`)));
    expect([...keys]).toEqual(['2001:db8:aa:bb::/64']);
    expect(clientKey('2001:db8:aa:bc::1')).not.toBe(clientKey('2001:db8:aa:bb::1'));
  });

  it('leaves anything that is not an IP address as it is', () => {
    expect(clientKey('not:an:address')).toBe('not:an:address');
  });
});

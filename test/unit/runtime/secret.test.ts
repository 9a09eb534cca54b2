import { format, inspect } from 'node:util';
import { Secret } from '../../../processors/runtime/secret';

describe('Secret', () => {
  const secret = new Secret('correct horse battery staple');

  test('reveals its text to the client that asks for it, and to nothing that prints', () => {
    expect(secret.reveal()).toBe('correct horse battery staple');
    const printed = [
      `${secret}`,
      String(secret),
      JSON.stringify({ sasl: { password: secret } }),
      inspect({ sasl: { password: secret } }, { depth: 5, showHidden: true }),
      format('%o %O %s %j', secret, secret, secret, secret),
    ];
    for (const text of printed) expect(text).not.toContain('horse');
    expect(JSON.stringify({ password: secret })).toBe('{"password":"[hidden]"}');
    expect(inspect(secret)).toBe('Secret([hidden])');
  });

  test('cannot be changed, and has no enumerable field holding the text', () => {
    expect(Object.isFrozen(secret)).toBe(true);
    expect(Object.keys(secret)).toEqual([]);
    expect(Object.getOwnPropertyNames(secret)).toEqual([]);
  });

  test('matches a candidate only when it is the same text, whatever the lengths', () => {
    expect(secret.matches('correct horse battery staple')).toBe(true);
    expect(secret.matches('correct horse battery stapl')).toBe(false);
    expect(secret.matches('')).toBe(false);
    expect(secret.matches('correct horse battery staple and more')).toBe(false);
    expect(new Secret('').matches('')).toBe(true);
  });
});

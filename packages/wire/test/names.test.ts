import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError, isValidChannel, isValidPattern, isValidTenant, validateChannel, validatePattern, validateTenant } from '@fastpubsub/wire';

function throwsCode(fn: () => void, code: string, messagePart?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WireError, 'expected a WireError');
    assert.equal(err.code, code);
    if (messagePart !== undefined) assert.match(err.message, new RegExp(messagePart));
    return true;
  });
}

test('tenant: charset and 1..128 bytes', () => {
  for (const ok of ['t1', 'A-z_0~@.x', 'a'.repeat(128), 'a.b']) validateTenant(ok);
  throwsCode(() => validateTenant(''), 'invalid_name', 'empty');
  throwsCode(() => validateTenant('a'.repeat(129)), 'invalid_name', '129 bytes');
  throwsCode(() => validateTenant('a b'), 'invalid_name', "' '");
  throwsCode(() => validateTenant('a:b'), 'invalid_name');
  throwsCode(() => validateTenant('é'), 'invalid_name');
  assert.equal(isValidTenant('ok'), true);
  assert.equal(isValidTenant('no!'), false);
});

test('channel: no wildcards, no empty tokens, 1..256 bytes', () => {
  for (const ok of ['a', 'public.chat.room1', 'a'.repeat(256), 'x-y_z~@.q']) validateChannel(ok);
  throwsCode(() => validateChannel(''), 'invalid_name', 'empty');
  throwsCode(() => validateChannel('a'.repeat(257)), 'invalid_name', '257 bytes');
  throwsCode(() => validateChannel('a.*'), 'invalid_name', 'wildcard');
  throwsCode(() => validateChannel('a.#'), 'invalid_name', 'wildcard');
  throwsCode(() => validateChannel('a>'), 'invalid_name', 'wildcard');
  throwsCode(() => validateChannel('.a'), 'invalid_name', 'leading dot');
  throwsCode(() => validateChannel('a.'), 'invalid_name', 'trailing dot');
  throwsCode(() => validateChannel('a..b'), 'invalid_name', 'double dot');
  throwsCode(() => validateChannel('a\nb'), 'invalid_name', 'U\\+000A');
  throwsCode(() => validateChannel('\ud800'), 'invalid_name');
  assert.equal(isValidChannel('a.b'), true);
  assert.equal(isValidChannel('a.*'), false);
});

test('pattern: token rules', () => {
  const valid = ['a', 'a.b.c', '*', 'a.*', '*.b', 'p*', 'a.p*.c', '#', '>', 'a.#', 'a.>', 'a.p#', 'a.p>', 'p#', '*.*.#', 'a'.repeat(256)];
  for (const p of valid) assert.doesNotThrow(() => validatePattern(p), p);
  const invalid: [string, string?][] = [
    ['', 'empty'],
    ['a'.repeat(257), '257 bytes'],
    ['a*b', 'must end its token'],
    ['*a', 'must end its token'],
    ['**', 'must end its token'],
    ['#.a', 'last token'],
    ['>.a', 'last token'],
    ['a.p#.b', 'last token'],
    ['a#b', 'must end its token'],
    ['.a', 'leading dot'],
    ['a.', 'trailing dot'],
    ['a..#', 'double dot'],
    ['a b'],
    [' a.#'],
    ['a.#\n'],
    ['a:b'],
  ];
  for (const [p, msg] of invalid) throwsCode(() => validatePattern(p), 'invalid_pattern', msg);
  assert.equal(isValidPattern('a.#'), true);
  assert.equal(isValidPattern('#.a'), false);
});

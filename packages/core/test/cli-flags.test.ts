// parseFlags: node:util parseArgs errors become one readable line with a suggestion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, closestFlag, parseFlags } from '../src/index.js';

const options = { listen: { type: 'string' }, 'master-token': { type: 'string' }, 'quic-listen': { type: 'string' }, help: { type: 'boolean' } } as const;

function errorOf(args: string[]): string {
  try {
    parseFlags({ args, options, strict: true });
  } catch (err) {
    assert.ok(err instanceof FlagError);
    return err.message;
  }
  return assert.fail('no error');
}

test('an unknown flag names itself and the nearest known flag', () => {
  assert.equal(errorOf(['--lisen', 'x']), 'unknown option --lisen (did you mean --listen?)');
  assert.equal(errorOf(['--master-tokn', 'x']), 'unknown option --master-tokn (did you mean --master-token?)');
  assert.equal(errorOf(['--quic']), 'unknown option --quic (did you mean --quic-listen?)');
  assert.equal(errorOf(['--zzzzzzzz']), 'unknown option --zzzzzzzz');
});

test('a missing value, a stray value and a positional each get one plain sentence', () => {
  assert.equal(errorOf(['--listen']), 'option --listen needs a value');
  assert.equal(errorOf(['--help=yes']), 'option --help takes no value');
  assert.equal(errorOf(['stray']), "unexpected argument 'stray'");
});

test('valid flags parse as parseArgs would', () => {
  const { values } = parseFlags({ args: ['--listen', '1.2.3.4:5'], options, strict: true });
  assert.equal(values.listen, '1.2.3.4:5');
  assert.equal(closestFlag('helo', Object.keys(options)), 'help');
});

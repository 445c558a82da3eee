import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { configWarnings } from '../../src/config/warnings.ts';

describe('configWarnings', () => {
  it("warns about subscription secrets shorter than 16 characters (16 bytes for whsec_), not about long ones", () => {
    const config = parseConfig(
      {
        subscriptions: [
          { id: 'short', url: 'http://127.0.0.1:9/a', secret: 'abc' },
          { id: 'rotating', url: 'http://127.0.0.1:9/b', secret: ['a-long-enough-secret-1', 'old'] },
          { id: 'short-whsec', url: 'http://127.0.0.1:9/c', secret: `whsec_${Buffer.from('eight-by').toString('base64')}` },
          { id: 'long', url: 'http://127.0.0.1:9/d', secret: 'a-long-enough-secret-2' },
          { id: 'long-whsec', url: 'http://127.0.0.1:9/e', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` },
        ],
      },
      'test',
      {},
    );
    const warned = configWarnings(config).map((warning) => /^subscription "([^"]+)"/.exec(warning.message)?.[1]);
    assert.deepEqual(warned, ['short', 'rotating', 'short-whsec']);
  });
});

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig, QUICKSTART_CONFIG_PATH } from '../../src/config/load.ts';
import { makeTempDir } from '../helpers/gateway.ts';

const channel = { id: 'wx', platform: 'wechat-pad', secret: '${PAD_SECRET}' };

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('config loading', () => {
  it('substitutes ${VAR} and ${VAR:-default} from the environment', () => {
    const config = parseConfig(
      { server: { port: '${PORT:-9090}' }, channels: [channel] },
      'test',
      { PAD_SECRET: 's3cret-value' },
    );
    assert.equal(config.server.port, 9090);
    assert.equal(config.channels[0]!.platform, 'wechat-pad');
    assert.equal((config.channels[0] as { secret?: string }).secret, 's3cret-value');
  });

  it('reads substituted numbers and booleans as what they say', () => {
    const config = parseConfig(
      { server: { bodyLimitBytes: '${LIMIT}' }, delivery: { enabled: '${WORKER:-false}' } },
      'test',
      { LIMIT: '2048' },
    );
    assert.equal(config.server.bodyLimitBytes, 2048);
    assert.equal(config.delivery.enabled, false);
    const problems = problemsOf(() => parseConfig({ server: { port: '${PORT}' } }, 'test', { PORT: 'eighty' }));
    assert.match(problems[0]!, /^server\.port: /);
  });

  it('refuses a misspelt key instead of silently keeping the default', () => {
    const problems = problemsOf(() => parseConfig({ server: { prot: 9000 } }, 'test', {}));
    assert.match(problems[0]!, /^server: Unrecognized key/);
    assert.match(problemsOf(() => parseConfig({ channels: [{ ...channel, secert: 'x' }] }, 'test', { PAD_SECRET: 'y' }))[0]!, /^channels\[0\]: Unrecognized key/);
  });

  it('keeps $${ as a literal ${', () => {
    const config = parseConfig({ channels: [{ ...channel, secret: 'a$${b}' }] }, 'test', {});
    assert.equal((config.channels[0] as { secret?: string }).secret, 'a${b}');
  });

  it('names the path and the variable of a missing environment variable', () => {
    const problems = problemsOf(() => parseConfig({ channels: [channel] }, 'test', {}));
    assert.deepEqual(problems, ['channels[0].secret: environment variable PAD_SECRET is not set and has no default']);
  });

  it('names the path and reason of an invalid value without echoing the value', () => {
    const problems = problemsOf(() =>
      parseConfig({ apiKeys: [{ id: 'k', token: 'short-secret' }], channels: [{ id: 'wx', platform: 'wechat-pad' }] }, 'test', {}),
    );
    assert.ok(problems.includes('apiKeys[0].token: at least 16 characters'), problems.join('; '));
    assert.ok(problems.includes('channels[0].secret: required when auth is "signature"'), problems.join('; '));
    assert.ok(!problems.join(' ').includes('short-secret'));
  });

  it('rejects an unknown platform and duplicate channel ids', () => {
    assert.ok(problemsOf(() => parseConfig({ channels: [{ id: 'x', platform: 'icq' }] }, 'test', {}))[0]!.startsWith('channels[0].platform'));
    const dup = problemsOf(() => parseConfig({ channels: [{ ...channel, secret: 'x' }, { ...channel, secret: 'y' }] }, 'test', {}));
    assert.deepEqual(dup, ['channels[1].id: duplicate channel id "wx"']);
  });

  it('refuses an allowIps or trustProxies entry that is no address or CIDR', () => {
    const problems = problemsOf(() =>
      parseConfig({ server: { trustProxies: ['10.0.0.0/8', 'proxy'] }, channels: [{ ...channel, secret: 'x', allowIps: ['1.2.3.0/33'] }] }, 'test', {}),
    );
    assert.deepEqual(problems.sort(), ['channels[0].allowIps[0]: not an IP address or CIDR', 'server.trustProxies[1]: not an IP address or CIDR']);
  });

  it('refuses a retention shorter than any platform retries', () => {
    const problems = problemsOf(() => parseConfig({ storage: { retentionHours: 2 } }, 'test', {}));
    assert.match(problems[0]!, /^storage\.retentionHours: at least 24/);
  });

  it('refuses a whsec_ secret that is not base64, without echoing it', () => {
    const subscription = (secret: string) => ({ subscriptions: [{ id: 's', url: 'http://127.0.0.1:1/in', secret }] });
    const problems = problemsOf(() => parseConfig(subscription('whsec_not*base64!'), 'test', {}));
    assert.match(problems[0]!, /^subscriptions\[0\]\.secret: after "whsec_" the secret must be base64/);
    assert.ok(!problems.join('\n').includes('not*base64'));
    assert.doesNotThrow(() => parseConfig(subscription('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'test', {}));
    assert.doesNotThrow(() => parseConfig(subscription('any plain secret'), 'test', {}));
  });

  it('refuses a purge interval longer than a Node timer can wait (it would fire every millisecond)', () => {
    const problems = problemsOf(() => parseConfig({ storage: { purgeIntervalMinutes: 43_200 } }, 'test', {}));
    assert.match(problems[0]!, /^storage\.purgeIntervalMinutes: at most 35791/);
    assert.doesNotThrow(() => parseConfig({ storage: { purgeIntervalMinutes: 35_791 } }, 'test', {}));
  });

  it('reports YAML syntax errors with the file name', () => {
    const dir = makeTempDir();
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'server:\n  port: [1, 2\n');
    const problems = problemsOf(() => loadConfigFile(path, {}));
    assert.equal(problems[0], 'not valid YAML at line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]');
  });

  it('says "required" for a key left out', () => {
    const problems = problemsOf(() => parseConfig({ channels: [{ platform: 'wechat-pad', secret: 'x' }] }, 'test', {}));
    assert.deepEqual(problems, ['channels[0].id: required']);
  });

  it('loads the bundled quickstart config with no environment at all', () => {
    const config = loadConfigFile(QUICKSTART_CONFIG_PATH, {});
    assert.equal(config.storage.url, 'sqlite:./data/imgate.db');
    assert.equal(config.channels[0]!.id, 'wx-demo');
  });
});

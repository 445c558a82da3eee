import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { isPlatformOutage, OutageLog } from '../../../src/platforms/_kit/outage-log.ts';
import { capturingLogger } from '../../helpers/adapter-deps.ts';

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
  channel?: string;
  failures?: number;
}

const unreachable = (message: string) => new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message });
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe('isPlatformOutage', () => {
  it('takes network failures, 5xx and a dropped gateway for an outage, and refusals and bugs for none', () => {
    assert.equal(isPlatformOutage(unreachable('the Discord Gateway closed the connection (code 1006)')), true);
    assert.equal(isPlatformOutage(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { httpStatus: 500 } })), true);
    assert.equal(isPlatformOutage(new TypeError('fetch failed', { cause: networkError('ECONNREFUSED') })), true);
    assert.equal(isPlatformOutage(networkError('ENOTFOUND')), true);
    assert.equal(isPlatformOutage(networkError('ETIMEDOUT')), true);
    assert.equal(isPlatformOutage(networkError('ECONNRESET')), true);
    assert.equal(isPlatformOutage(new Error('socket hang up')), true);

    assert.equal(isPlatformOutage(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { httpStatus: 401 } })), false);
    assert.equal(isPlatformOutage(new ImgateError('IMG_ERR_PLATFORM_REJECTED', { details: { refused: true } })), false);
    assert.equal(isPlatformOutage(new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED')), false);
    assert.equal(isPlatformOutage(new TypeError("Cannot read properties of undefined (reading 'url')")), false);
    assert.equal(isPlatformOutage('a string'), false);
  });
});

describe('OutageLog', () => {
  it('warns once per outage without a stack, logs repeats at debug and the recovery at info', () => {
    const { logger, lines } = capturingLogger();
    const log = new OutageLog(logger, 'long connection', { channel: 'dc' });
    log.recovered();
    log.failed(unreachable('GET /gateway/bot failed: ECONNREFUSED'), { delayMs: 5 });
    log.failed(unreachable('GET /gateway/bot failed: ECONNREFUSED'));
    log.failed(unreachable('Discord answered GET /gateway/bot with HTTP 503'));
    log.recovered();
    log.recovered();
    log.failed(unreachable('the Discord Gateway closed the connection (code 1006)'));

    const logged = lines.map((line) => JSON.parse(line) as Line);
    assert.deepEqual(
      logged.map((line) => [line.level, line.msg]),
      [
        [40, 'long connection unreachable: GET /gateway/bot failed: ECONNREFUSED; retrying'],
        [20, 'long connection still unreachable: GET /gateway/bot failed: ECONNREFUSED'],
        [20, 'long connection still unreachable: Discord answered GET /gateway/bot with HTTP 503'],
        [30, 'long connection reachable again after 3 failed attempts'],
        [40, 'long connection unreachable: the Discord Gateway closed the connection (code 1006); retrying'],
      ],
    );
    assert.ok(logged.every((line) => line.channel === 'dc' && line.err === undefined));
    assert.equal(logged[2]?.failures, 3);
  });

  it('logs an unexpected error at warn with its stack every time, without starting or ending an outage', () => {
    const { logger, lines } = capturingLogger();
    const log = new OutageLog(logger, 'wecom-kf pull');
    const bug = new TypeError("Cannot read properties of undefined (reading 'url')");
    log.failed(bug);
    log.failed(bug);
    log.recovered();

    const logged = lines.map((line) => JSON.parse(line) as Line);
    assert.equal(logged.length, 2);
    assert.ok(logged.every((line) => line.level === 40 && line.msg === 'wecom-kf pull failed'));
    assert.match(logged[0]?.err?.stack ?? '', /TypeError: Cannot read properties/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sdkLogger } from '../../../src/platforms/feishu/sdk-logger.ts';
import { capturingLogger } from '../../helpers/adapter-deps.ts';
import { FEISHU_KEYS } from './helpers.ts';

const { appSecret } = FEISHU_KEYS;

describe('the SDK logger', () => {
  it('writes the SDK\'s lines to the channel log a level lower, without URLs or secrets', () => {
    const { logger, lines } = capturingLogger();
    const sdk = sdkLogger(logger, [appSecret]);
    sdk.error(['[ws]', 'connect failed', new Error(`refused with ${appSecret}`)]);
    sdk.info(['[ws]', 'ws client ready']);
    sdk.debug(['[ws]', 'get connect config success, ws url: wss://msg-frontier.feishu.cn/ws/v2?access_key=ak&ticket=tk']);
    const written = lines.map((line) => JSON.parse(line) as { level: number; msg: string; source: string });
    assert.deepEqual(
      written.map((line) => [line.level, line.msg]),
      [
        [40, '[ws] connect failed refused with [redacted]'],
        [20, '[ws] ws client ready'],
        [10, '[ws] get connect config success, ws url: [long-connection url]'],
      ],
    );
    assert.ok(written.every((line) => line.source === '@larksuiteoapi/node-sdk'));
  });
});

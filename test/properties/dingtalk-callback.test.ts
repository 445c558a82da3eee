import { describe } from 'node:test';
import fc from 'fast-check';
import { dingtalk } from '../../src/platforms/dingtalk/index.ts';
import { buildDingtalkSample } from '../../src/platforms/dingtalk/simulate.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { callbackBody, channel, signedHeaders } from '../platforms/dingtalk/helpers.ts';
import { arbitraryTime, headerText, requestOfSample, shapedLike } from './arbitraries.ts';
import { describeCallbackProperties } from './callback-properties.ts';

/* DingTalk robots in HTTP mode (src/platforms/dingtalk/callback.ts, verify.ts, normalize.ts). */

const config = channel();
const adapter = dingtalk.create(config, testAdapterDeps());

/** The message types normalize.ts tells apart, and conversation types. */
const overrides = {
  msgtype: fc.constantFrom('text', 'picture', 'richText', 'audio', 'video', 'file', 'markdown', 'interactiveCard', '', 'x'),
  conversationType: fc.constantFrom('1', '2', '3', 1, 2, ''),
  createAt: arbitraryTime,
  sessionWebhookExpiredTime: arbitraryTime,
  content: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ richText: fc.array(fc.record({ text: fc.string(), type: fc.constantFrom('picture', 'text'), downloadCode: fc.string() }, { requiredKeys: [] }), { maxLength: 3 }) })),
};

describe('property: DingTalk HTTP callbacks', () => {
  describeCallbackProperties('dingtalk', {
    handle: (req) => adapter.handleCallback(req),
    sample: () => requestOfSample(buildDingtalkSample(config, { group: true })),
    parts: { headers: ['timestamp', 'sign', 'content-type'], timestamp: { header: 'timestamp' } },
    // Exception: DingTalk's sign is HMAC-SHA256 over `timestamp + "\n" + appSecret` and covers the
    // timestamp alone, not the body (机器人接收消息, "sign的计算方法"; src/platforms/dingtalk/verify.ts):
    // a changed body with the headers of a recent callback is taken if it parses. Both headers are
    // compared trimmed.
    covered: (req) => [req.method, headerText(req.headers.timestamp)?.trim(), headerText(req.headers.sign)?.trim()],
    shaped: shapedLike({ ...callbackBody(), content: {} }, overrides).map((payload) => {
      const body = JSON.stringify(payload) ?? 'null';
      return requestOfSample({ path: '/hooks/ding', method: 'POST', headers: signedHeaders(), body });
    }),
  });
});

import { describe } from 'node:test';
import fc from 'fast-check';
import type { InboundRequest } from '../../src/platforms/_kit/adapter.ts';
import { wechatPad, type WechatPadChannelConfig } from '../../src/platforms/wechat-pad/index.ts';
import { buildWechatPadSample } from '../../src/platforms/wechat-pad/simulate.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { abotHeaders, padproHeaders } from '../helpers/http.ts';
import { PATH_TOKEN, SECRET, channel } from '../platforms/wechat-pad/helpers.ts';
import { headerText, requestOfSample, shapedLike } from './arbitraries.ts';
import { describeCallbackProperties } from './callback-properties.ts';

/*
 * wechat-pad (src/platforms/wechat-pad/callback.ts, verify.ts, payload.ts, normalize.ts,
 * content.ts) in each auth mode and both body formats.
 */

const signed = channel({ auth: 'signature', secret: SECRET });
const concat = channel({ auth: 'signature', secret: SECRET, signatureFormat: 'concat' });
const pathToken = channel({ auth: 'path-token', pathToken: PATH_TOKEN });
const open = channel({ auth: 'none' });

const handlerOf = (config: WechatPadChannelConfig) => {
  const adapter = wechatPad.create(config, testAdapterDeps());
  return (req: InboundRequest) => adapter.handleCallback(req);
};

/** The message types content.ts tells apart, and contents that make it parse embedded XML. */
const padOverrides = {
  MsgType: fc.constantFrom(1, 3, 34, 37, 42, 43, 47, 48, 49, 50, 10000, 10002, '49', -1),
  msgType: fc.constantFrom(1, 3, 34, 37, 47, 48, 49, 10000, 10002, '1'),
  Content: fc.oneof(
    fc.record({ string: fc.constantFrom('<msg><appmsg><type>5</type><title>t</title><url>https://x</url></appmsg></msg>', '<msg><emoji cdnurl="x"/></msg>', '<sysmsg type="revokemsg"><revokemsg><newmsgid>1</newmsgid></revokemsg></sysmsg>', '<msg fromusername="a" content="hi"/>', '<msg><location x="1" y="2"/></msg>', 'wxid_a:\n<msg><appmsg/></msg>', '<!DOCTYPE x>', '<<') }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  ),
  MsgSource: fc.constantFrom('<msgsource><atuserlist><![CDATA[,wxid_bot123]]></atuserlist></msgsource>', '<msgsource><atuserlist>a,,b</atuserlist></msgsource>', '<msgsource/>', '<', ''),
};

function padTemplate(format: 'flat' | 'pad'): unknown {
  // The sample's body with its long NewMsgId quoted, so that JSON.parse keeps it.
  return JSON.parse(buildWechatPadSample(open, { format }).body.replace(/"NewMsgId":(\d+)/, '"NewMsgId":"$1"'));
}

/** A body signed as pad servers sign it, over a payload of the pad or flat shape with any values. */
const shapedSigned: fc.Arbitrary<InboundRequest> = fc
  .oneof(shapedLike(padTemplate('pad'), padOverrides), shapedLike(padTemplate('flat'), padOverrides))
  .map((payload) => {
    const body = JSON.stringify(payload) ?? 'null';
    return requestOfSample({ path: '/hooks/wx-main', method: 'POST', headers: padproHeaders(SECRET, body), body });
  });

describe('property: wechat-pad callbacks', () => {
  for (const [name, config] of [
    ['auth: signature (timestamp:body)', signed],
    ['auth: signature, signatureFormat: concat', concat],
  ] as const) {
    describeCallbackProperties(`wechat-pad ${name}`, {
      handle: handlerOf(config),
      sample: () => requestOfSample(buildWechatPadSample(config, { format: 'pad', group: true })),
      parts: { headers: ['x-webhook-timestamp', 'x-webhook-signature', 'x-wechat-abot-signature', 'content-type'], timestamp: { header: 'x-webhook-timestamp' } },
      // HMAC-SHA256 over timestamp, separator and the raw body; the hex signature is compared trimmed and in lower case.
      covered: (req) => [req.method, headerText(req.headers['x-webhook-timestamp']), headerText(req.headers['x-webhook-signature'])?.trim().toLowerCase(), req.rawBody.toString('base64')],
      shaped: name === 'auth: signature (timestamp:body)' ? shapedSigned : undefined,
    });
  }

  describeCallbackProperties('wechat-pad OpenClaw wechat_abot signature', {
    handle: handlerOf(signed),
    sample: () => {
      const { body } = buildWechatPadSample(open, { format: 'pad' });
      return requestOfSample({ path: '/hooks/wx-main', method: 'POST', headers: { 'content-type': 'application/json', ...abotHeaders(SECRET, body) }, body });
    },
    parts: { headers: ['x-wechat-abot-signature', 'x-webhook-signature', 'content-type'] },
    // `sha256=` + HMAC-SHA256 over the raw body alone; no timestamp in this contract (dedup stops replays).
    covered: (req) => [req.method, headerText(req.headers['x-webhook-signature']), headerText(req.headers['x-wechat-abot-signature'])?.trim().toLowerCase(), req.rawBody.toString('base64')],
  });

  describeCallbackProperties('wechat-pad auth: path-token', {
    handle: handlerOf(pathToken),
    sample: () => requestOfSample(buildWechatPadSample(pathToken, { format: 'flat' }), { pathToken: PATH_TOKEN }),
    parts: { headers: ['content-type'], pathToken: true },
    // Exception: a path token authenticates the sender, not the body (docs/channels/wechat-pad.md):
    // a changed body with the right token is a new callback, legitimately taken or refused by the parser.
    covered: (req) => [req.method, req.pathToken],
  });

  describeCallbackProperties('wechat-pad auth: none', {
    handle: handlerOf(open),
    sample: () => requestOfSample(buildWechatPadSample(open, { format: 'pad' })),
    parts: { headers: ['content-type'] },
    // Exception: `auth: none` (trusted networks only, warned about at start) covers nothing but the method.
    covered: (req) => [req.method],
    // Unsigned here, so any payload of the pad shapes reaches the normalizer.
    shaped: fc.oneof(shapedLike(padTemplate('pad'), padOverrides), shapedLike(padTemplate('flat'), padOverrides)).map((payload) => {
      const body = JSON.stringify(payload) ?? 'null';
      return requestOfSample({ path: '/hooks/wx-main', method: 'POST', headers: { 'content-type': 'application/json' }, body });
    }),
  });
});

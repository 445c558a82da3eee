import type { ChannelAdapter } from '../../../src/platforms/_kit/adapter.ts';
import type { WecomChannelConfig } from '../../../src/platforms/wecom/config.ts';
import { wecom } from '../../../src/platforms/wecom/index.ts';
import { testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { WECOM_KEYS } from '../../helpers/wecom.ts';
import { onlyEvent } from '../../helpers/callback-outcome.ts';

export const CORP_SECRET = 'wecom-app-secret-never-logged';
export const AGENT_ID = 1000002;

export function channel(overrides: Record<string, unknown> = {}): WecomChannelConfig {
  return wecom.configSchema.parse({
    id: 'wecom-main',
    platform: 'wecom',
    corpId: WECOM_KEYS.corpId,
    corpSecret: CORP_SECRET,
    agentId: AGENT_ID,
    token: WECOM_KEYS.token,
    encodingAESKey: WECOM_KEYS.encodingAESKey,
    ...overrides,
  });
}

export function adapterFor(config: WecomChannelConfig, deps: TestAdapterDeps = testAdapterDeps()): ChannelAdapter {
  return wecom.create(config, deps);
}


const head = (type: string, createTime = '1348831860') =>
  `<ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[${type}]]></MsgType>`;

/**
 * Decrypted callbacks as WeCom documents them for self-built apps (path/90239 messages, path/90240
 * events), with the CorpID of the test keys.
 */
export const DECRYPTED = {
  text: `<xml>${head('text')}<Content><![CDATA[this is a test]]></Content><MsgId>7349268471863513114</MsgId><AgentID>1000002</AgentID></xml>`,
  image: `<xml>${head('image')}<PicUrl><![CDATA[https://wework.qpic.cn/wwpic/123/0]]></PicUrl><MediaId><![CDATA[media_img_1]]></MediaId><MsgId>1234567890123456</MsgId><AgentID>1000002</AgentID></xml>`,
  voice: `<xml>${head('voice')}<MediaId><![CDATA[media_voice_1]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>1234567890123457</MsgId><AgentID>1000002</AgentID></xml>`,
  video: `<xml>${head('video')}<MediaId><![CDATA[media_video_1]]></MediaId><ThumbMediaId><![CDATA[media_thumb_1]]></ThumbMediaId><MsgId>1234567890123458</MsgId><AgentID>1000002</AgentID></xml>`,
  file: `<xml>${head('file')}<MediaId><![CDATA[media_file_1]]></MediaId><FileName><![CDATA[report.pdf]]></FileName><FileSize>20480</FileSize><MsgId>1234567890123459</MsgId><AgentID>1000002</AgentID></xml>`,
  location: `<xml>${head('location')}<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>15</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123460</MsgId><AgentID>1000002</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>`,
  link: `<xml>${head('link')}<Title><![CDATA[this is a title!]]></Title><Description><![CDATA[this is a description!]]></Description><Url><![CDATA[https://example.com/article]]></Url><PicUrl><![CDATA[https://example.com/cover.png]]></PicUrl><MsgId>1234567890123461</MsgId><AgentID>1000002</AgentID></xml>`,
  subscribe: `<xml>${head('event')}<Event><![CDATA[subscribe]]></Event><AgentID>1000002</AgentID></xml>`,
  enterAgent: `<xml>${head('event')}<Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>1000002</AgentID></xml>`,
  click: `<xml>${head('event')}<Event><![CDATA[click]]></Event><EventKey><![CDATA[MENU_HELP]]></EventKey><AgentID>1000002</AgentID></xml>`,
  location_event: `<xml>${head('event')}<Event><![CDATA[LOCATION]]></Event><Latitude>23.104105</Latitude><Longitude>113.320107</Longitude><Precision>65.000000</Precision><AgentID>1000002</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>`,
} as const;

export { onlyEvent };

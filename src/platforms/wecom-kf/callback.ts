import type { AdapterDeps, CallbackOutcome, InboundRequest } from '../_kit/adapter.ts';
import { WECOM_ACK, receiveWecomCallback, type WecomCallbackKeys } from '../_kit/wecom-callback.ts';
import type { PullReason } from './pull.ts';

/**
 * `GET` is the URL check; `POST` is a notice. A `kf_msg_or_event` notice carries no message, only
 * the account (`OpenKfId`) and a Token for `kf/sync_msg`: it is answered `success` at once, with
 * nothing stored, and the pull runs in the background — WeCom gives a callback 5 s, and a pull of
 * several pages can take longer. The pull then stores the messages themselves; a lost notice is
 * made up for by the next one or the poll, since the cursor is WeCom's and lives in the store.
 */
export function handleWecomKfCallback(
  keys: WecomCallbackKeys,
  deps: AdapterDeps,
  req: InboundRequest,
  startPull: (openKfId: string, token: string | null, reason: PullReason) => void,
): CallbackOutcome {
  const received = receiveWecomCallback(keys, req, 'WeCom customer-service');
  if (received.kind === 'reply') return received;
  const { message } = received.opened;
  const msgType = field(message, 'MsgType');
  const event = field(message, 'Event');
  if (msgType === 'event' && event === 'kf_msg_or_event') {
    const openKfId = field(message, 'OpenKfId');
    if (openKfId === null) {
      deps.logger.warn('wecom-kf kf_msg_or_event without OpenKfId; acknowledged, nothing to pull');
    } else {
      deps.logger.info({ openKfId }, 'wecom-kf kf_msg_or_event');
      startPull(openKfId, field(message, 'Token'), 'callback');
    }
  } else {
    deps.logger.info({ msgType, event }, 'wecom-kf callback is not kf_msg_or_event; acknowledged, not stored');
  }
  return { kind: 'reply', reply: WECOM_ACK };
}

/** A tag's text; null when absent or empty (the XML parser keeps every value a string). */
function field(message: Record<string, unknown>, name: string): string | null {
  const value = message[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

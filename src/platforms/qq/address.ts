import { ImgateError } from '../../core/errors.ts';

/**
 * The four places a QQ bot talks in: a C2C chat with a user (their `user_openid`), a group (its
 * `group_openid`), a guild's text channel (`channel_id`) and a guild direct-message session (its
 * `guild_id`, which `/dms/{guild_id}/messages` takes).
 */
export type QqTargetKind = 'user' | 'group' | 'channel' | 'dm';

export interface QqTarget {
  kind: QqTargetKind;
  id: string;
}

const TARGET = /^(user|group|channel|dm):(\S+)$/;

/**
 * `conversation.id` of a QQ event, and the `to` that sends there: `user:<openid>`, `group:<group_openid>`,
 * `channel:<channel_id>` or `dm:<guild_id>`. The kind is part of the id because QQ's ids do not tell
 * (openids of users and groups look alike), as DingTalk's `user:`/`group:` say it outright.
 */
export function qqConversationId(target: QqTarget): string {
  return `${target.kind}:${target.id}`;
}

export function parseQqTarget(to: string): QqTarget {
  const match = TARGET.exec(to.trim());
  if (match === null) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: '`to` of a qq channel is user:<user_openid>, group:<group_openid>, channel:<channel_id> or dm:<guild_id> (an event\'s conversation.id)',
      details: { field: 'to' },
    });
  }
  return { kind: match[1] as QqTargetKind, id: match[2] as string };
}

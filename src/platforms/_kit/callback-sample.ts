/**
 * A callback as a platform would send it to the gateway, built from a channel's config by the
 * platforms' `build…Sample` functions: for `imgate simulate`, tests and benchmarks.
 */
export interface CallbackSample {
  /** `/hooks/<id>…`, with whatever path token or query string the platform adds. */
  path: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** The options of `imgate simulate`; each platform uses those that apply to it. */
export interface SimulateOptions {
  /** wechat-pad: the webhook guide's flat JSON or the pad server's own. */
  format: 'flat' | 'pad';
  /** A group message that mentions the bot, where the platform has one. */
  group?: boolean;
  text?: string;
  /** wecom-kf: the customer-service account of the notice. */
  openKfId?: string;
}

/** A sample callback for `imgate simulate`, and what it is in words. */
export interface SimulatedCallback {
  sample: CallbackSample;
  what: string;
  /**
   * The callback only announces messages, which the gateway pulls from the platform after answering:
   * its answer says nothing of the pull, whose outcome shows as the channel's `lastPullAt` or `lastError`.
   */
  announcesPull?: boolean;
}

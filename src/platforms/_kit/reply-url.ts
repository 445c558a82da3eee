/**
 * Reply URLs that arrive inside callback bodies — DingTalk's `sessionWebhook`, a WeCom robot's
 * `WebhookUrl` — carry a credential for the chat (`session`, `key`). DingTalk's signature covers the
 * timestamp only, not the body, so a captured signature replayed within its window could point a
 * reply, credential and all, at any host. One policy for both: the URL is used only on one of the
 * platform's own hosts (default port) or on the channel's configured `apiBase` (a proxy, or a fake
 * platform in tests), at exactly the path the platform issues, with the credential parameter.
 */
export interface ReplyUrlPolicy {
  /** The platform's hosts that issue such URLs (`oapi.dingtalk.com`). */
  hosts: string[];
  /** The channel's `apiBase`, when configured: its origin and path prefix are accepted too. */
  apiBase: string | undefined;
  /** The path the platform issues (`/robot/sendBySession`). */
  path: string;
  /** The query parameter holding the credential (`session`). */
  credential: string;
}

/** The URL and its credential if `raw` passes the policy; null otherwise (the caller sends another way). */
export function trustedReplyUrl(raw: unknown, policy: ReplyUrlPolicy): { url: string; credential: string } | null {
  if (typeof raw !== 'string') return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  const credential = url.searchParams.get(policy.credential);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !credential || url.username !== '' || url.password !== '') return null;
  const onPlatform = url.port === '' && policy.hosts.includes(url.hostname) && url.pathname === policy.path;
  if (onPlatform || onApiBase(url, policy)) return { url: url.toString(), credential };
  return null;
}

function onApiBase(url: URL, policy: ReplyUrlPolicy): boolean {
  if (policy.apiBase === undefined) return false;
  const base = new URL(policy.apiBase);
  return url.origin === base.origin && url.pathname === `${base.pathname.replace(/\/+$/, '')}${policy.path}`;
}

/**
 * Runs one platform call with a signal of its own, aborted when `parent` aborts (a shutdown) or
 * after `timeoutMs`, and unlinked from `parent` once the call settles. A long-lived parent handed to
 * a client directly gains a listener per call that the client never removes (@discordjs/rest), and
 * `AbortSignal.any` keeps each call's signal tied to the parent until it is garbage-collected: a
 * reconnect loop against a platform that stays down would grow either without bound.
 */
export async function withCallSignal<T>(parent: AbortSignal | undefined, timeoutMs: number | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(parent?.reason);
  if (parent?.aborted) abort();
  else parent?.addEventListener('abort', abort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  try {
    return await call(controller.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', abort);
  }
}

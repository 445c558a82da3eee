import type { UnifiedEvent } from '../core/event.ts';
import { callGateway, GatewayAnswerError } from './client.ts';

/** Seconds each long poll waits for an event. */
const POLL_WAIT_SECONDS = 30;
/** Pause before asking again after the gateway could not be reached. */
const RETRY_MS = 2000;

interface Page {
  data: { cursor: string; event: UnifiedEvent }[];
  next: string;
}

/** One line per event: cursor, time, channel, conversation, sender and text (or the message type). */
function eventLine(cursor: string, event: UnifiedEvent): string {
  const text = event.message.text ? event.message.text.replace(/\s+/g, ' ') : `[${event.message.type}]`;
  return `${cursor}  ${event.receivedAt}  ${event.channel}  ${event.conversation.id}  ${event.sender.name ?? event.sender.id}: ${text}`;
}

/**
 * Follows a pull subscription by long polling until SIGINT/SIGTERM. Each poll names the last
 * cursor printed, which acknowledges it, and one more poll on the way out acknowledges the last
 * page: the next `tail` starts right after what this one printed.
 */
export async function tailPull(options: { url: string; subscriptionId: string; token: string; json: boolean }): Promise<void> {
  const base = `${options.url}/v1/subscriptions/${encodeURIComponent(options.subscriptionId)}/events`;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let after: string | undefined;
  try {
    while (!stop.signal.aborted) {
      const query = `?wait=${POLL_WAIT_SECONDS}${after === undefined ? '' : `&after=${after}`}`;
      let page: Page;
      try {
        page = (await callGateway(`${base}${query}`, { method: 'GET', token: options.token, signal: stop.signal })) as Page;
      } catch (error) {
        if (stop.signal.aborted) break;
        // A refusal (bad token, no such subscription) will not change; an unreachable gateway may.
        if (error instanceof GatewayAnswerError && error.status < 500) throw error;
        process.stderr.write(`imgate tail: ${(error as Error).message}; trying again in ${RETRY_MS / 1000} s\n`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      for (const { cursor, event } of page.data) {
        process.stdout.write(`${options.json ? JSON.stringify({ cursor, event }) : eventLine(cursor, event)}\n`);
      }
      after = page.next;
    }
    if (after !== undefined && after !== '0') {
      await callGateway(`${base}?after=${after}&limit=1`, { method: 'GET', token: options.token });
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

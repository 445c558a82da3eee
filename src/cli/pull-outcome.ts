import { callGateway } from './client.ts';

/** What `GET /v1/channels` says of a channel's pulls. */
export interface PullState {
  lastPullAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
}

/** How long the gateway's pull may take before `imgate simulate` gives up waiting; a pull of several pages takes seconds. */
const WAIT_MS = 30_000;
const POLL_MS = 200;

/** The channel's pull state as the gateway at `url` shows it (an admin route). */
export async function pullState(url: string, adminToken: string, channelId: string): Promise<PullState> {
  const answer = (await callGateway(`${url}/v1/channels`, { method: 'GET', token: adminToken })) as { data: ({ id: string } & PullState)[] };
  const channel = answer.data.find((candidate) => candidate.id === channelId);
  if (!channel) throw new Error(`the gateway at ${url} has no channel "${channelId}": is it running this config?`);
  return channel;
}

/**
 * Waits for the pull that a simulated notice started: resolves with its time once the channel's
 * `lastPullAt` moves past `before`, and fails with the channel's error once `lastError` does. The
 * notice's answer cannot say, since the gateway answers the platform before it pulls.
 */
export async function awaitPullOutcome(url: string, adminToken: string, channelId: string, before: PullState): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const now = await pullState(url, adminToken, channelId);
    if (now.lastError !== null && now.lastError.at !== before.lastError?.at) {
      throw new Error(`the gateway's pull after the notice failed: ${now.lastError.code}: ${now.lastError.message}`);
    }
    if (now.lastPullAt !== null && now.lastPullAt !== before.lastPullAt) return now.lastPullAt;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `the gateway did not finish a pull within ${WAIT_MS / 1000} s of the notice (an account a registered puppet owns is not pulled): see GET /v1/channels and its log`,
  );
}

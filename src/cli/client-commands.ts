import type { Config } from '../config/schema.ts';
import { loadConfigFile } from '../config/load.ts';
import { callGateway, defaultGatewayUrl } from './client.ts';
import { resolveConfigPath } from './config-path.ts';
import { awaitPullOutcome, pullState } from './pull-outcome.ts';
import { simulatedCallback, type SimulateOptions } from './simulate-sample.ts';
import { tailPull } from './tail.ts';

interface ClientOptions {
  config?: string;
  url?: string;
}

function gatewayFor(options: ClientOptions) {
  const config = loadConfigFile(resolveConfigPath(options.config).path);
  return { config, url: options.url ?? defaultGatewayUrl(config) };
}

function adminTokenOf(options: { adminToken?: string }, config: Config): string | undefined {
  return options.adminToken ?? process.env.IMGATE_ADMIN_TOKEN ?? config.admin.token;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function sendCommand(
  options: ClientOptions & { channel: string; to: string; text: string; replyTo?: string; apiKey?: string; idempotencyKey?: string },
): Promise<void> {
  const { config, url } = gatewayFor(options);
  const token = options.apiKey ?? process.env.IMGATE_API_KEY ?? config.apiKeys.find((k) => k.channels.includes('*') || k.channels.includes(options.channel))?.token;
  if (!token) throw new Error('no API key: pass --api-key or set IMGATE_API_KEY');
  print(
    await callGateway(`${url}/v1/messages`, {
      method: 'POST',
      token,
      headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {},
      body: JSON.stringify({ channel: options.channel, to: options.to, text: options.text, replyTo: options.replyTo }),
    }),
  );
}

export async function simulateCommand(
  platform: string,
  options: ClientOptions & SimulateOptions & { channel?: string; adminToken?: string },
): Promise<void> {
  const { config, url } = gatewayFor(options);
  const channel = config.channels.find((c) => c.platform === platform && (options.channel === undefined || c.id === options.channel));
  if (!channel) throw new Error(`no ${platform} channel${options.channel ? ` "${options.channel}"` : ''} in the config`);
  const { sample, what, announcesPull } = simulatedCallback(channel, options);
  const adminToken = announcesPull ? adminTokenOf(options, config) : undefined;
  const before = adminToken === undefined ? null : await pullState(url, adminToken, channel.id);
  const answer = await callGateway(`${url}${sample.path}`, { method: sample.method, headers: sample.headers, body: sample.body });
  process.stdout.write(`sent ${what} to ${url}/hooks/${channel.id}; the gateway answered:\n`);
  print(answer);
  if (!announcesPull) return;
  if (adminToken === undefined || before === null) {
    process.stderr.write('imgate: the outcome of the pull is unknown without the admin token (--admin-token, IMGATE_ADMIN_TOKEN or admin.token)\n');
    return;
  }
  process.stdout.write(`the gateway pulled the messages (lastPullAt ${await awaitPullOutcome(url, adminToken, channel.id, before)})\n`);
}

export async function replayCommand(deliveryId: string, options: ClientOptions & { adminToken?: string }): Promise<void> {
  const { config, url } = gatewayFor(options);
  const token = adminTokenOf(options, config);
  if (!token) throw new Error('no admin token: pass --admin-token or set IMGATE_ADMIN_TOKEN');
  print(await callGateway(`${url}/v1/deliveries/${encodeURIComponent(deliveryId)}/replay`, { method: 'POST', token }));
}

export async function tailCommand(subscriptionId: string, options: ClientOptions & { token?: string; json?: boolean }): Promise<void> {
  const { config, url } = gatewayFor(options);
  const token = options.token ?? process.env.IMGATE_API_KEY ?? process.env.IMGATE_ADMIN_TOKEN ?? config.admin.token;
  if (!token) throw new Error('no token: pass --token or set IMGATE_API_KEY (or IMGATE_ADMIN_TOKEN)');
  await tailPull({ url, subscriptionId, token, json: options.json === true });
}

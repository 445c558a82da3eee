import { loadConfigFile } from '../config/load.ts';
import { createLogger } from '../core/logger.ts';
import { findPlatform } from '../platforms/registry.ts';
import { resolveConfigPath } from './config-path.ts';

export function checkCommand(options: { config?: string }): void {
  const { path } = resolveConfigPath(options.config);
  const config = loadConfigFile(path);
  const silentLogger = createLogger('silent');
  const warnings = config.channels.flatMap((channel) => {
    const adapter = findPlatform(channel.platform)?.create(channel, { logger: silentLogger });
    return adapter?.startupWarnings?.() ?? [];
  });
  const lines = [
    `${path} is valid:`,
    `  ${config.channels.length} channel(s): ${config.channels.map((c) => `${c.id} (${c.platform})`).join(', ') || 'none'}`,
    `  ${config.subscriptions.length} subscription(s), ${config.apiKeys.length} API key(s), storage ${config.storage.url.split(':')[0]}`,
    ...warnings.map((w) => `  warning: ${w}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

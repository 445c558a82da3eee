import { loadConfigFile } from '../config/load.ts';
import { configWarnings } from '../config/warnings.ts';
import { resolveConfigPath } from './config-path.ts';

export function checkCommand(options: { config?: string }): void {
  const { path } = resolveConfigPath(options.config);
  const config = loadConfigFile(path);
  const warnings = configWarnings(config);
  const lines = [
    `${path} is valid:`,
    `  ${config.channels.length} channel(s): ${config.channels.map((c) => `${c.id} (${c.platform})`).join(', ') || 'none'}`,
    `  ${config.subscriptions.length} subscription(s), ${config.apiKeys.length} API key(s), storage ${config.storage.url.split(':')[0]}`,
    ...warnings.map((w) => `  warning: ${w.message}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

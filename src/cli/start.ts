import { loadConfigFile } from '../config/load.ts';
import { createLogger } from '../core/logger.ts';
import { startGateway } from '../main.ts';
import { resolveConfigPath } from './config-path.ts';

export async function startCommand(options: { config?: string }): Promise<void> {
  const { path, quickstart } = resolveConfigPath(options.config);
  const config = loadConfigFile(path);
  const logger = createLogger(config.log.level);
  const gateway = await startGateway(config, { logger }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
    const { host, port } = config.server;
    throw new Error(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: another process is using that port; stop it, or set server.port in ${path} to a free one`);
  });
  if (quickstart) {
    process.stderr.write(
      [
        '',
        `imgate is running on the quickstart config (${path}), storing in ${config.storage.url}.`,
        `  API and callbacks:  ${gateway.url}   (callbacks at ${gateway.url}/hooks/<channel>)`,
        `  try it:             npm run imgate -- simulate wechat-pad`,
        `  then look:          curl -H 'Authorization: Bearer quickstart-admin-token' ${gateway.url}/v1/events`,
        `  your own config:    npm run imgate -- init   (writes imgate.yaml)`,
        '',
      ].join('\n'),
    );
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, config.server.shutdownTimeoutMs);
    timer.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

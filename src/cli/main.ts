#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Argument, Command, Option } from 'commander';
import { ConfigError } from '../config/load.ts';
import { backupCommand } from './backup.ts';
import { checkCommand } from './check.ts';
import { replayCommand, sendCommand, simulateCommand, tailCommand } from './client-commands.ts';
import { SIMULATED_PLATFORMS } from './simulate-sample.ts';
import { initCommand } from './init.ts';
import { loginCommand } from './login.ts';
import { addPlatformCommands } from './platform-commands.ts';
import { startCommand } from './start.ts';

// package.json is two levels up from both src/cli/main.ts and the compiled dist/cli/main.js.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command('imgate')
  .description('A self-hosted gateway between chat platforms and bot backends.')
  .version(version, '-v, --version', 'print the version')
  .showHelpAfterError();

const configOption = () => new Option('-c, --config <path>', 'config file (default: $IMGATE_CONFIG, ./imgate.yaml, else the quickstart)');
const urlOption = () => new Option('--url <url>', 'the running gateway (default: from the config)');

program.command('start').description('start the gateway').addOption(configOption()).action(startCommand);

program
  .command('init')
  .description('write a commented starter config')
  .option('-o, --output <path>', 'where to write it', 'imgate.yaml')
  .option('-f, --force', 'overwrite an existing file')
  .action(initCommand);

program.command('check').description('validate a config file').addOption(configOption()).action(checkCommand);

program
  .command('backup')
  .description("copy the SQLite store, also while the gateway runs (for PostgreSQL: how to use pg_dump)")
  .argument('<file>', 'where to write the copy')
  .option('-f, --force', 'overwrite an existing file')
  .addOption(configOption())
  .action(backupCommand);

program
  .command('send')
  .description('send a text message through a running gateway')
  .requiredOption('--channel <id>', 'channel id')
  .requiredOption('--to <conversation>', 'conversation id (a wxid or …@chatroom for WeChat)')
  .requiredOption('--text <text>', 'the text')
  .option('--reply-to <messageId>', 'the message being answered')
  .option('--idempotency-key <key>', 'the same key sends once')
  .option('--api-key <token>', 'API key (default: $IMGATE_API_KEY, else one from the config)')
  .addOption(configOption())
  .addOption(urlOption())
  .action(sendCommand);

program
  .command('simulate')
  .description('fire a correctly signed sample callback at a running gateway')
  .addArgument(new Argument('<platform>', 'platform id').choices(SIMULATED_PLATFORMS))
  .option('--channel <id>', 'which channel of that platform (default: the first)')
  .addOption(new Option('--format <format>', 'wechat-pad: payload shape').choices(['flat', 'pad']).default('pad'))
  .option('--group', 'wechat-pad, dingtalk, qq, slack, telegram: a group message that mentions the bot')
  .option('--text <text>', 'the message text')
  .option('--open-kf-id <id>', 'wecom-kf: the customer-service account of the notice (default: the first of openKfIds)')
  .option('--admin-token <token>', 'wecom-kf: to read how the pull went from /v1/channels (default: $IMGATE_ADMIN_TOKEN, else the config)')
  .addOption(configOption())
  .addOption(urlOption())
  .action(simulateCommand);

program
  .command('replay')
  .description('send a delivery again (dead-lettered or not)')
  .argument('<deliveryId>', 'the delivery id (dlv_…)')
  .option('--admin-token <token>', 'admin token (default: $IMGATE_ADMIN_TOKEN, else the config)')
  .addOption(configOption())
  .addOption(urlOption())
  .action(replayCommand);

program
  .command('tail')
  .description('follow a pull subscription: print its events as they arrive, resuming where the last tail stopped')
  .argument('<subscription>', 'the pull subscription id')
  .option('--json', 'the whole event, one JSON object a line')
  .option('--token <token>', 'an API key covering the subscription, or the admin token (default: $IMGATE_API_KEY, $IMGATE_ADMIN_TOKEN, else the config)')
  .addOption(configOption())
  .addOption(urlOption())
  .action(tailCommand);

program
  .command('login')
  .description('log a channel in by QR code (wechat-ilink), through the running gateway')
  .argument('<channel>', 'the channel id')
  .option('--admin-token <token>', 'admin token (default: $IMGATE_ADMIN_TOKEN, else the config)')
  .addOption(configOption())
  .addOption(urlOption())
  .action(loginCommand);

addPlatformCommands(program, configOption);

try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`imgate: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
}

import type { Command, Option } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { platformCommands } from '../platforms/registry.ts';
import { resolveConfigPath } from './config-path.ts';

/**
 * `imgate <platform> <command>` for every command a platform defines (`PlatformDefinition.commands`),
 * run against one of the config's channels of that platform, printing what the command answers.
 */
export function addPlatformCommands(program: Command, configOption: () => Option): void {
  for (const { platform, commands } of platformCommands) {
    const group = program.command(platform).description(`${platform} commands: ${commands.map((command) => command.name).join(', ')}`);
    for (const command of commands) {
      const sub = group
        .command(command.name)
        .description(command.description)
        .option('--channel <id>', `which ${platform} channel (default: the first)`)
        .addOption(configOption());
      for (const option of command.options ?? []) sub.option(option.flags, option.description);
      sub.action(async (options: Record<string, unknown> & { channel?: string; config?: string }) => {
        const config = loadConfigFile(resolveConfigPath(options.config).path);
        const channel = config.channels.find((c) => c.platform === platform && (options.channel === undefined || c.id === options.channel));
        if (!channel) throw new Error(`no ${platform} channel${options.channel ? ` "${options.channel}"` : ''} in the config`);
        process.stdout.write(`${JSON.stringify(await command.run(channel, options), null, 2)}\n`);
      });
    }
  }
}

import { GatewayIntentBits } from 'discord-api-types/v10';

/**
 * Gateway intents by the names Discord's documentation gives them (`GUILD_MESSAGES`,
 * `MESSAGE_CONTENT`, …), derived from discord-api-types' `GatewayIntentBits` (PascalCase there) so
 * that new intents arrive with the library. An old alias (`GUILD_BANS` for `GUILD_MODERATION`) is
 * left out: the enum lists the current name first.
 */
export const INTENT_BITS: ReadonlyMap<string, number> = new Map(
  Object.entries(GatewayIntentBits)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .filter(([, bit], index, all) => all.findIndex(([, other]) => other === bit) === index)
    .map(([name, bit]) => [name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(), bit]),
);

export const INTENT_NAMES = [...INTENT_BITS.keys()] as [string, ...string[]];

/**
 * What a bot that reads messages needs: guild metadata (GUILDS, which READY's guild list rests
 * on), guild and direct messages, and their text (MESSAGE_CONTENT, privileged: switch it on under
 * Bot → Privileged Gateway Intents, or guild messages arrive without content).
 */
export const DEFAULT_INTENTS = ['GUILDS', 'GUILD_MESSAGES', 'DIRECT_MESSAGES', 'MESSAGE_CONTENT'];

/** The IDENTIFY bitfield of the configured intents: a number as given, names OR-ed together. */
export function intentBitfield(intents: number | string[]): number {
  if (typeof intents === 'number') return intents;
  return intents.reduce((bits, name) => bits | (INTENT_BITS.get(name) ?? 0), 0);
}

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';

/** Values for every `${VAR}` the examples use: plausible shapes, since the schema checks them. */
function exampleEnv(text: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [, name] of text.matchAll(/\$\{([A-Z0-9_]+)/g)) {
    const variable = name as string;
    if (/AES_KEY$/.test(variable)) env[variable] = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    else if (/AGENT_ID$/.test(variable)) env[variable] = '1000002';
    else if (/^SLACK_BOT_TOKEN/.test(variable)) env[variable] = 'xoxb-0000-0000-example';
    else if (/^SLACK_APP_TOKEN/.test(variable)) env[variable] = 'xapp-1-A000-0000-example';
    else if (/TELEGRAM_BOT_TOKEN$/.test(variable)) env[variable] = '123456789:AAExample-telegram-bot-token_0123';
    else env[variable] = `example-value-for-${variable.toLowerCase()}`;
  }
  return env;
}

/** The ```yaml blocks of a Markdown file (also those indented in a list) that hold config keys at top level. */
function configBlocks(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^( *)```yaml\n([\s\S]*?)^ *```/gm)]
    .map(([, indent, body]) => (body as string).replace(new RegExp(`^${indent as string}`, 'gm'), ''))
    .filter((block) => /^(channels|subscriptions|apiKeys|server|storage):/m.test(block));
}

const documents = ['README.md', ...readdirSync('docs/channels').map((name) => join('docs/channels', name))];

describe('config examples in the docs', () => {
  for (const path of documents) {
    it(`${path}: every config example is valid`, () => {
      const blocks = configBlocks(path);
      assert.ok(blocks.length > 0, `${path} has no config example`);
      for (const block of blocks) {
        const document = parse(block) as Record<string, unknown>;
        assert.doesNotThrow(
          () => parseConfig({ admin: { token: 'example-admin-token-0123' }, ...document }, path, exampleEnv(block)),
          `an example in ${path} does not parse:\n${block}`,
        );
      }
    });
  }
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { requiredMessages } from './issue-messages.ts';
import { configSchema, type Config } from './schema.ts';
import { substituteEnv, type MissingVariable } from './substitute-env.ts';

/** The config `npm start` uses when no config file is given: one demo channel, SQLite under ./data. */
export const QUICKSTART_CONFIG_PATH = fileURLToPath(new URL('../../config/quickstart.yaml', import.meta.url));

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}

/** Zod's messages name the expected type, never the received value, so secrets stay out of errors. */
function describeIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
}

export function parseConfig(document: unknown, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const missing: MissingVariable[] = [];
  const substituted = substituteEnv(document ?? {}, env, missing);
  if (missing.length > 0) {
    throw new ConfigError(
      source,
      missing.map((m) => `${m.path}: environment variable ${m.variable} is not set and has no default`),
    );
  }
  const result = configSchema.safeParse(substituted, { error: requiredMessages });
  if (!result.success) throw new ConfigError(source, describeIssues(result.error.issues));
  return result.data;
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(path, [yamlProblem(error)]);
  }
  return parseConfig(document, path, env);
}

/**
 * "not valid YAML at line 2, column 1: <what>". The yaml package ends its first line with the position
 * and a colon, and quotes the offending lines after it: those are left out, as they may hold a secret.
 */
function yamlProblem(error: unknown): string {
  const firstLine = (error as Error).message.split('\n')[0] ?? '';
  const what = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  const position = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  return `not valid YAML${position}: ${what}`;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/logger.ts';
import { startGateway, type Gateway } from '../../src/main.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const API_TOKEN = 'test-api-token-0123456789';

export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'imgate-test-'));
}

/** A config document for tests: loopback, any free port, SQLite in `dir`, the given parts on top. */
export function testConfigDocument(dir: string, parts: Record<string, unknown>): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, ...(parts.server as object) },
    storage: { url: `sqlite:${join(dir, 'imgate.db')}` },
    delivery: { pollIntervalMs: 200, ...(parts.delivery as object) },
    admin: { token: ADMIN_TOKEN },
    apiKeys: [{ id: 'test', token: API_TOKEN, channels: ['*'] }],
    ...Object.fromEntries(Object.entries(parts).filter(([key]) => key !== 'server' && key !== 'delivery')),
  };
}

export interface TestGateway {
  gateway: Gateway;
  url: string;
  dir: string;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  /** Every log line written so far, as written. */
  logText: () => string;
  close(): Promise<void>;
}

/** The real gateway, in this process, on 127.0.0.1 with a real SQLite file. */
export async function startTestGateway(parts: Record<string, unknown>, dir = makeTempDir()): Promise<TestGateway> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = parseConfig(testConfigDocument(dir, parts), 'test');
  const gateway = await startGateway(config, { logger: createLogger('info', sink) });
  return {
    gateway,
    url: gateway.url,
    dir,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    close: () => gateway.close(),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** How to run the CLI: the TypeScript sources through tsx, or the compiled `dist/` as `npm start` does. */
export const CLI_ENTRY = {
  source: ['--import', 'tsx', 'src/cli/main.ts'],
  compiled: ['dist/cli/main.js'],
} as const;

/** The real gateway as its own process (`imgate start`), for tests that kill it. */
export async function spawnGateway(dir: string, parts: Record<string, unknown>, port = 0, entry: keyof typeof CLI_ENTRY = 'source'): Promise<GatewayProcess> {
  const configPath = join(dir, 'imgate.yaml');
  const doc = testConfigDocument(dir, { ...parts, server: { port } });
  writeFileSync(configPath, stringify(doc));
  const child = spawn(process.execPath, [...CLI_ENTRY[entry], 'start', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"imgate listening"/.exec(buffered);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exited };
}

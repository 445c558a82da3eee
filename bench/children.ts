import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The processes of a bench run: each server is a child of its own, killed (and the temp directory removed) on exit. */

export const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Extra node flags for the imgate child, for profiling: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const IMGATE_NODE_ARGS = (process.env.BENCH_IMGATE_NODE_ARGS ?? '').split(' ').filter(Boolean);

const children = new Set<ChildProcess>();
const stopping = new Set<ChildProcess>();
export const tempDir = mkdtempSync(join(tmpdir(), 'imgate-bench-'));
const cleanups: (() => Promise<void>)[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanUp().finally(() => process.exit(130)));

/** Registers what to undo before the bench exits (a database server). */
export function onCleanUp(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function spawnChild(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (stopping.has(child)) return;
    process.stderr.write(`bench failed: "node ${args.join(' ')}" exited unexpectedly (${signal ?? code})\n`);
    void cleanUp().finally(() => process.exit(1));
  });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<number | null> {
  stopping.add(child);
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

/** A child that prints `{"port":N}` when it listens (the bare server, the plain receiver, the subscriber). */
export async function startListeningChild(script: string, args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnChild([script, ...args]);
  const [chunk] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => Promise.reject(new Error(`${script} exited before listening`))),
  ])) as [Buffer];
  const { port } = JSON.parse(chunk.toString()) as { port: number };
  return { child, url: `http://${HOST}:${port}` };
}

/** `imgate start` on a temp config; with `log.level: warn` nothing is printed, so /healthz says when it is up. */
export async function startImgate(configPath: string, url: string): Promise<ChildProcess> {
  const child = spawnChild([...IMGATE_NODE_ARGS, 'src/cli/main.ts', 'start', '--config', configPath]);
  child.stdout!.pipe(process.stdout);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('imgate did not answer /healthz within 30 s');
}

/** The most resident memory a process has had so far (`VmHWM`), in MiB; null off Linux. */
export function peakRssMiB(pid: number): number | null {
  try {
    const line = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? Number(line[1]) / 1024 : null;
  } catch {
    return null;
  }
}

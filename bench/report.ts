import type { RunResult } from './load.ts';

/** Number formats, tables and the run's failed checks, shared by the bench's phases. */

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** autocannon keeps latencies in whole milliseconds. */
export const ms = (n: number): string => (n < 1 ? '<1' : fmt(n));
export const cores = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(2));
export const cpuPer10k = (r: RunResult): string => (r.serverCores === null || r.rps === 0 ? 'n/a' : ((r.serverCores / r.rps) * 10_000).toFixed(2));

export function printTable(title: string, header: string[], rows: string[][]): void {
  process.stdout.write(`\n${title}\n`);
  const cells = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) {
    process.stdout.write(`${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
  }
}

/** The value at quantile `q` (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Each failed check, with what failed; the bench exits non-zero when there is any. */
export const failures: string[] = [];

const MAX_BAD_SHARE = 0.01;

/**
 * The checks every storing target gets: fewer than 1 % non-2xx or failed requests, every request
 * answered, a clean exit on SIGTERM, and as many rows stored as 2xx answers (every acknowledged
 * callback is stored); answers the durability line to print.
 */
export function checkStoringRun(name: string, runs: Pick<RunResult, 'ok' | 'non2xx' | 'errors' | 'unanswered'>[], stored: number, exitCode: number | null): string {
  const acknowledged = runs.reduce((sum, run) => sum + run.ok, 0);
  const answered = runs.reduce((sum, run) => sum + run.ok + run.non2xx, 0);
  const bad = runs.reduce((sum, run) => sum + run.non2xx + run.errors, 0);
  const unanswered = runs.reduce((sum, run) => sum + run.unanswered, 0);
  if (bad > MAX_BAD_SHARE * answered) failures.push(`${name} answered non-2xx or failed on ${fmt(bad)} of ${fmt(answered)} requests (> 1 %)`);
  if (stored !== acknowledged) failures.push(`${name}: ${fmt(stored)} events stored but ${fmt(acknowledged)} acknowledged`);
  if (unanswered > 0) failures.push(`${fmt(unanswered)} requests to ${name} were never answered`);
  if (exitCode !== 0) failures.push(`${name} exited with ${exitCode} on SIGTERM`);
  return `durability, ${name}: ${fmt(stored)} stored, ${fmt(acknowledged)} acknowledged with 2xx${stored === acknowledged ? ' — match' : ' — MISMATCH'}`;
}

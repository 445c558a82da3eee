import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EXAMPLE = fileURLToPath(new URL('../../config/imgate.example.yaml', import.meta.url));

export function initCommand(options: { output: string; force?: boolean }): void {
  if (existsSync(options.output) && !options.force) {
    throw new Error(`${options.output} exists; use --force to overwrite it`);
  }
  copyFileSync(EXAMPLE, options.output);
  process.stdout.write(`wrote ${options.output}: set the variables it names, then run: imgate check --config ${options.output}\n`);
}

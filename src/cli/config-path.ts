import { existsSync } from 'node:fs';
import { QUICKSTART_CONFIG_PATH } from '../config/load.ts';

/** `--config`, else `IMGATE_CONFIG`, else `./imgate.yaml` if there is one, else the bundled quickstart. */
export function resolveConfigPath(option: string | undefined): { path: string; quickstart: boolean } {
  const explicit = option ?? process.env.IMGATE_CONFIG;
  if (explicit) return { path: explicit, quickstart: false };
  if (existsSync('imgate.yaml')) return { path: 'imgate.yaml', quickstart: false };
  return { path: QUICKSTART_CONFIG_PATH, quickstart: true };
}

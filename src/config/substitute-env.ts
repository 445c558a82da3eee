/**
 * `${VAR}` and `${VAR:-default}` in string values, resolved from the environment after the YAML is
 * parsed (so a variable's value can never change the document's structure). `$${` stands for a
 * literal `${`. Missing variables are collected with the path they were needed at, never their value.
 */
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface MissingVariable {
  path: string;
  variable: string;
}

export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  missing: MissingVariable[] = [],
  path = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${';
      const found = env[name as string];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      missing.push({ path: path || '(root)', variable: name as string });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, missing, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, missing, path ? `${path}.${key}` : key)]),
    );
  }
  return value;
}

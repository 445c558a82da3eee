// Writes docs/config.md, the configuration reference, from the one config schema
// (src/config/schema.ts). test/config/docs.test.ts fails when the file and the schema disagree.
// Run after changing the schema or a platform's channel keys: npm run docs:config
//
// It walks the zod schema itself rather than z.toJSONSchema: the JSON Schema export drops the
// default of any schema that contains a transform (e.g. `subscriptions`, whose `messageTypes`
// transforms), and the walk reads defaults, descriptions and options straight from the source.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';
import { channelBaseSchema } from '../src/platforms/_kit/channel-config.ts';

export const CONFIG_DOC_PATH = fileURLToPath(new URL('../docs/config.md', import.meta.url));

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypes['_zod']['def'];
type Shape = Readonly<Record<string, Schema>>;

/** The fields of a check that the type column shows; zod's check defs are a wide union. */
interface CheckDef {
  check: string;
  format?: string;
  value?: unknown;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  pattern?: RegExp;
}

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** A schema with its wrappers (default, optional, …) peeled off, and what they said. */
interface Field {
  inner: Schema;
  description: string | undefined;
  defaultValue: { value: unknown } | undefined;
  optional: boolean;
}

interface WalkState {
  /** Whether the objects met reject unknown keys. */
  strictObjects: boolean[];
}

function defOf(schema: Schema): Def {
  return (schema as z.core.$ZodTypes)._zod.def;
}

function describedAs(schema: Schema): string | undefined {
  return z.globalRegistry.get(schema)?.description;
}

/** Peels default, prefault, optional, readonly and pipes; the outermost description and default win. */
function unwrap(schema: Schema): Field {
  let current = schema;
  let description: string | undefined;
  let defaultValue: { value: unknown } | undefined;
  let optional = false;
  for (;;) {
    description ??= describedAs(current);
    const def = defOf(current);
    if (def.type === 'default' || def.type === 'prefault') {
      defaultValue ??= { value: def.defaultValue };
      current = def.innerType;
    } else if (def.type === 'optional') {
      optional = true;
      current = def.innerType;
    } else if (def.type === 'readonly' || def.type === 'nonoptional') {
      current = def.innerType;
    } else if (def.type === 'pipe') {
      // A config file is the pipe's input; a transform has no input type of its own.
      current = defOf(def.in).type === 'transform' ? def.out : def.in;
    } else {
      return { inner: current, description, defaultValue, optional };
    }
  }
}

function checksOf(def: Def): CheckDef[] {
  return (def.checks ?? []).map((check) => check._zod.def as CheckDef);
}

function code(value: unknown): string {
  return `\`${String(value)}\``;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Bounds of a number as one phrase: `0–65535`, `≥ 24`, `> 0, ≤ 60000`. */
function boundNotes(checks: CheckDef[]): string[] {
  const lower = checks.find((c) => c.check === 'greater_than');
  const upper = checks.find((c) => c.check === 'less_than');
  if (lower?.inclusive && upper?.inclusive) return [`${String(lower.value)}–${String(upper.value)}`];
  const notes: string[] = [];
  if (lower) notes.push(`${lower.inclusive ? '≥' : '>'} ${String(lower.value)}`);
  if (upper) notes.push(`${upper.inclusive ? '≤' : '<'} ${String(upper.value)}`);
  return notes;
}

function lengthNotes(checks: CheckDef[], unit: 'character' | 'item'): string[] {
  const min = checks.find((c) => c.check === 'min_length')?.minimum;
  const max = checks.find((c) => c.check === 'max_length')?.maximum;
  if (unit === 'character' && min === 1 && max === undefined) return ['non-empty'];
  if (min !== undefined && max !== undefined) return [`${min}–${plural(max, unit)}`];
  if (min !== undefined) return [`at least ${plural(min, unit)}`];
  if (max !== undefined) return [`at most ${plural(max, unit)}`];
  return [];
}

/** A type as a base (`string[]`, `` `a` | `b` ``) and notes on its constraints. */
function typeParts(schema: Schema): { base: string; notes: string[] } {
  const def = defOf(unwrap(schema).inner);
  const checks = checksOf(def);
  switch (def.type) {
    case 'string': {
      const format = 'format' in def && typeof def.format === 'string' ? def.format : undefined;
      const base = format === undefined ? 'string' : format === 'url' ? 'URL' : `string (${format})`;
      const notes = lengthNotes(checks, 'character');
      for (const check of checks) {
        if (check.check === 'string_format' && check.format === 'regex' && check.pattern) notes.push(`matching ${code(check.pattern.source)}`);
      }
      return { base, notes };
    }
    case 'number': {
      const integer = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? ''));
      const notes = boundNotes(checks);
      return { base: integer ? 'integer' : 'number', notes };
    }
    case 'boolean':
      return { base: 'boolean', notes: [] };
    case 'enum':
      return { base: Object.values(def.entries).map(code).join(' | '), notes: [] };
    case 'literal':
      return { base: def.values.map(code).join(' | '), notes: [] };
    case 'array': {
      const element = typeParts(def.element);
      const wrapped = /[\s|]/.test(element.base) ? `(${element.base})` : element.base;
      return { base: `${wrapped}[]`, notes: [...lengthNotes(checks, 'item'), ...element.notes.map((note) => `each ${note}`)] };
    }
    case 'union':
      return { base: def.options.map(renderType).join(' | '), notes: [] };
    case 'nullable':
      return { base: `${renderType(def.innerType)} | null`, notes: [] };
    case 'record':
      return { base: `map of ${renderType(def.keyType)} to ${renderType(def.valueType)}`, notes: [] };
    case 'object':
      return { base: 'object', notes: [] };
    default:
      return { base: def.type, notes: [] };
  }
}

function renderType(schema: Schema): string {
  const { base, notes } = typeParts(schema);
  return notes.length > 0 ? `${base} (${notes.join(', ')})` : base;
}

/** Defaults as YAML would read them: bare top-level strings, JSON inside lists and maps. */
function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

function renderDefault(field: Field): string {
  if (field.defaultValue) return code(renderValue(field.defaultValue.value));
  return field.optional ? '–' : '**required**';
}

function objectShape(schema: Schema): { shape: Shape; strict: boolean } | undefined {
  const def = defOf(unwrap(schema).inner);
  if (def.type !== 'object') return undefined;
  return { shape: def.shape, strict: def.catchall !== undefined && defOf(def.catchall).type === 'never' };
}

/** One row per key; nested objects add `parent.child` rows, lists of objects `parent[].child`. */
function rowsOf(shape: Shape, state: WalkState, path: string, prefix = ''): Row[] {
  const rows: Row[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const field = unwrap(schema);
    const name = `${prefix}${key}`;
    const def = defOf(field.inner);
    rows.push({ key: name, type: renderType(schema), default: renderDefault(field), description: field.description ?? '' });
    const nested = objectShape(field.inner);
    if (nested) {
      state.strictObjects.push(nested.strict);
      rows.push(...rowsOf(nested.shape, state, path, `${name}.`));
    }
    if (def.type === 'array') {
      const element = objectShape(def.element);
      if (element) {
        state.strictObjects.push(element.strict);
        rows[rows.length - 1]!.type = 'list of objects';
        rows.push(...rowsOf(element.shape, state, path, `${name}[].`));
      }
    }
  }
  return rows;
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function table(rows: Row[]): string[] {
  return [
    '| Key | Type | Default | Description |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${code(row.key)} | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`),
  ];
}

/** The channel list's platforms: each option of the discriminated union, by its `platform` value. */
function channelPlatforms(channels: Schema): { discriminator: string; options: { id: string; schema: Schema; shape: Shape }[] } {
  const list = defOf(unwrap(channels).inner);
  if (list.type !== 'array') throw new Error('configSchema.channels is expected to be a list');
  const union = defOf(unwrap(list.element).inner);
  if (union.type !== 'union' || !('discriminator' in union) || typeof union.discriminator !== 'string') {
    throw new Error('configSchema.channels is expected to be a list of a discriminated union');
  }
  const discriminator = union.discriminator;
  const options = union.options.map((option) => {
    const object = objectShape(option);
    const tag = object?.shape[discriminator];
    const tagDef = tag ? defOf(unwrap(tag).inner) : undefined;
    if (!object || tagDef?.type !== 'literal' || tagDef.values.length !== 1) {
      throw new Error(`every channel schema needs a literal "${discriminator}"`);
    }
    return { id: String(tagDef.values[0]), schema: option, shape: object.shape };
  });
  return { discriminator, options };
}

function channelsSection(channels: Schema, state: WalkState): string[] {
  const { discriminator, options } = channelPlatforms(channels);
  const field = unwrap(channels);
  const base: Shape = channelBaseSchema.shape;
  const common = Object.keys(base).filter((key) => options.every((option) => option.shape[key] === base[key]));
  const lines: string[] = [];
  if (field.description) lines.push(field.description, '');
  lines.push(
    `A list of channels (default ${renderDefault(field)}). A channel is one account on one platform; its`,
    `\`${discriminator}\` picks the platform and with it the keys of the channel.`,
    '',
    '### Keys of every channel',
    '',
    ...table([
      {
        key: discriminator,
        type: options.map((option) => code(option.id)).join(' | '),
        default: '**required**',
        description: 'The platform of this channel; its own keys are listed below.',
      },
      ...rowsOf(Object.fromEntries(common.map((key) => [key, base[key] as Schema])), state, 'channels[].'),
    ]),
  );
  for (const option of options) {
    const own = Object.fromEntries(
      Object.entries(option.shape).filter(([key]) => key !== discriminator && !common.includes(key)),
    );
    const object = objectShape(option.schema);
    if (object) state.strictObjects.push(object.strict);
    lines.push('', `### \`${discriminator}: ${option.id}\``, '');
    const description = unwrap(option.schema).description;
    if (description) lines.push(description, '');
    lines.push(`Besides the keys of every channel:`, '', ...table(rowsOf(own, state, 'channels[].')));
  }
  return lines;
}

function section(key: string, schema: Schema, state: WalkState): string[] {
  const field = unwrap(schema);
  const lines = [`## \`${key}\``, ''];
  if (key === 'channels') return [...lines, ...channelsSection(schema, state)];
  if (field.description) lines.push(field.description, '');
  const def = defOf(field.inner);
  const object = objectShape(field.inner);
  if (object) {
    state.strictObjects.push(object.strict);
    lines.push(
      field.defaultValue ? 'A map; it may be left out, and so may each key that has a default.' : 'A map.',
      '',
      ...table(rowsOf(object.shape, state, `${key}.`)),
    );
    return lines;
  }
  const element = def.type === 'array' ? objectShape(def.element) : undefined;
  if (element) {
    state.strictObjects.push(element.strict);
    lines.push(`A list (default ${renderDefault(field)}); each entry has these keys:`, '', ...table(rowsOf(element.shape, state, `${key}[].`)));
    return lines;
  }
  lines.push(...table([{ key, type: renderType(schema), default: renderDefault(field), description: field.description ?? '' }]));
  return lines;
}

function intro(state: WalkState): string[] {
  // src/config/env-scalars.ts: every number and boolean key reads the text substitution yields.
  const stringOnly = 'Substitution yields text; number and boolean keys read it as what it says (`"8080"`, `"true"`, `"false"`).';
  const unknownKeys = state.strictObjects.every((strict) => strict)
    ? 'A key that is not listed here is rejected.'
    : state.strictObjects.every((strict) => !strict)
      ? 'A key that is not listed here is ignored without a warning, so a misspelt key silently keeps its default: compare spellings with these tables.'
      : 'Some sections reject keys that are not listed here; others ignore them, so compare spellings with these tables.';
  return [
    '# Configuration reference',
    '',
    'imgate reads one YAML file: the path given with `--config <path>` (`imgate start`, `imgate check`, …), else',
    'the one in the `IMGATE_CONFIG` environment variable, else `./imgate.yaml` if there is one, else the bundled',
    'quickstart (`config/quickstart.yaml`). `imgate init` writes a commented starter file and `imgate check`',
    'validates one; at start an invalid file is refused with one line per problem, naming its path and the reason.',
    unknownKeys,
    '',
    'String values may use `${VAR}` and `${VAR:-default}`, taken from the environment after the YAML is parsed',
    '(so a variable can never change the structure of the file); `$${` stands for a literal `${`. A variable that',
    'is unset or empty takes the default, and without one the file is refused, naming the key that needed it.',
    stringOnly,
    '',
    'Secrets — tokens, keys, signing secrets — belong in the environment, not in this file: write',
    '`secret: ${WECHAT_WEBHOOK_SECRET}` and set the variable where imgate runs. imgate never writes secrets',
    'to its logs, errors or API answers.',
    '',
    'In the tables, `a.b` is key `b` inside map `a`, and `a[].b` is key `b` of each entry of list `a`. Default',
    '**required** means the key must be given; `–` means it may be left out and then is unset.',
  ];
}

/** The whole of docs/config.md for a config schema; the same schema gives the same text. */
export function renderConfigDocs(schema: z.ZodObject = configSchema): string {
  const state: WalkState = { strictObjects: [] };
  const sections = Object.entries(schema.shape).flatMap(([key, field]) => ['', ...section(key, field, state)]);
  state.strictObjects.push(objectShape(schema)?.strict ?? false);
  const header = '<!-- Generated by `npm run docs:config` from src/config/schema.ts. Do not edit by hand: change the schema and run it again. -->';
  return [header, '', ...intro(state), ...sections, ''].join('\n');
}

function main(): void {
  writeFileSync(CONFIG_DOC_PATH, renderConfigDocs());
  console.log(`wrote ${CONFIG_DOC_PATH}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

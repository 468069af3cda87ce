// A small command-line parser: a spec declares each option's type (string, number, int, boolean),
// default, choices and help; parseArgs returns typed values or throws an ArgsError whose message is
// one line naming the command ("gan train: --lr expects a number, got 'abc'"); formatHelp renders
// --help from the same spec. Option keys are camelCase and spelled kebab-case on the command line
// (batchSize -> --batch-size; the camelCase spelling is accepted too). Accepted forms: --lr 0.1,
// --lr=0.1, -l 0.1, -l0.1, --flag, --no-flag, --flag=false, and `--` to end options.

export type ArgType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  type: ArgType;
  default?: string | number | boolean;
  help?: string;
  choices?: readonly (string | number)[];
  /** One-letter alias, without the dash. */
  short?: string;
  required?: boolean;
  /** Placeholder in help, e.g. 'PATH'. Defaults to the type. */
  metavar?: string;
}

export interface PositionalSpec {
  name: string;
  help?: string;
  required?: boolean;
  choices?: readonly string[];
}

export interface ArgsSpec {
  /** Command name used in errors and usage, e.g. 'gan train'. */
  command: string;
  description?: string;
  options: Record<string, OptionSpec>;
  positionals?: readonly PositionalSpec[];
  /** Allow positionals beyond those declared. */
  rest?: boolean;
  examples?: readonly string[];
}

type ValueOf<T extends ArgType> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

export type ParsedOptions<O extends Record<string, OptionSpec>> = {
  -readonly [K in keyof O]: O[K] extends { type: 'boolean' }
    ? boolean
    : O[K] extends { default: string | number | boolean } | { required: true }
      ? ValueOf<O[K]['type']>
      : ValueOf<O[K]['type']> | undefined;
};

export interface ParsedArgs<S extends ArgsSpec> {
  options: ParsedOptions<S['options']>;
  positionals: string[];
  /** True when -h/--help was given; nothing else was validated. Print formatHelp(spec). */
  help: boolean;
}

export class ArgsError extends Error {
  override name = 'ArgsError';
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function typeWord(t: ArgType): string {
  return t === 'int' ? 'an integer' : t === 'number' ? 'a number' : t === 'boolean' ? 'true or false' : 'a value';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return d[b.length];
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function parseArgs<const S extends ArgsSpec>(argv: readonly string[], spec: S): ParsedArgs<S> {
  const cmd = spec.command;
  const fail = (msg: string): never => {
    throw new ArgsError(`${cmd}: ${msg}`);
  };

  const byFlag = new Map<string, string>(); // 'batch-size' and 'batchSize' -> key
  const byShort = new Map<string, string>();
  for (const [key, o] of Object.entries(spec.options)) {
    byFlag.set(kebab(key), key);
    byFlag.set(key, key);
    if (o.short) byShort.set(o.short, key);
  }

  const values: Record<string, string | number | boolean | undefined> = {};
  const positionals: string[] = [];
  let help = false;

  const convert = (key: string, flag: string, raw: string | undefined): string | number | boolean => {
    const o = spec.options[key];
    if (raw === undefined) return fail(`${flag} expects ${typeWord(o.type)}, got nothing`);
    let v: string | number | boolean;
    switch (o.type) {
      case 'boolean': {
        const s = raw.toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(s)) v = true;
        else if (['false', '0', 'no', 'off'].includes(s)) v = false;
        else return fail(`${flag} expects true or false, got '${raw}'`);
        break;
      }
      case 'number':
        if (!NUMERIC.test(raw.trim()) && !/^[+-]?Infinity$/.test(raw.trim())) return fail(`${flag} expects a number, got '${raw}'`);
        v = Number(raw);
        break;
      case 'int':
        v = Number(raw);
        if (!NUMERIC.test(raw.trim()) || !Number.isSafeInteger(v)) return fail(`${flag} expects an integer, got '${raw}'`);
        break;
      default:
        v = raw;
    }
    if (o.choices && !o.choices.includes(v as string | number)) {
      return fail(`${flag} must be one of ${o.choices.join(', ')}; got '${raw}'`);
    }
    return v;
  };

  /** Can `tok` be the value of option `key` (rather than the next option)? Negative numbers can. */
  const takesToken = (key: string, tok: string | undefined): boolean => {
    if (tok === undefined) return false;
    if (!tok.startsWith('-') || tok === '-') return true;
    const t = spec.options[key].type;
    return (t === 'number' || t === 'int') && NUMERIC.test(tok);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      const key = byFlag.get(name);
      if (key === undefined && name.startsWith('no-')) {
        const k = byFlag.get(name.slice(3));
        if (k !== undefined && spec.options[k].type === 'boolean') {
          if (inline !== undefined) fail(`--${name} takes no value`);
          values[k] = false;
          continue;
        }
      }
      if (key === undefined) {
        const known = Object.keys(spec.options).map(kebab);
        const best = known.map((k) => [k, editDistance(name, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean --${best[0]}?)` : '';
        return fail(`unknown option --${name}${hint}; see --help`);
      }
      const flag = `--${kebab(key)}`;
      if (spec.options[key].type === 'boolean') values[key] = inline === undefined ? true : convert(key, flag, inline);
      else if (inline !== undefined) values[key] = convert(key, flag, inline);
      else if (takesToken(key, argv[i + 1])) values[key] = convert(key, flag, argv[++i]);
      else values[key] = convert(key, flag, undefined);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !NUMERIC.test(arg)) {
      const letter = arg[1];
      const key = byShort.get(letter);
      if (key === undefined) return fail(`unknown option -${letter}; see --help`);
      const flag = `-${letter}`;
      let rest = arg.slice(2);
      if (rest.startsWith('=')) rest = rest.slice(1);
      if (spec.options[key].type === 'boolean') values[key] = rest ? convert(key, flag, rest) : true;
      else if (rest) values[key] = convert(key, flag, rest);
      else if (takesToken(key, argv[i + 1])) values[key] = convert(key, flag, argv[++i]);
      else values[key] = convert(key, flag, undefined);
      continue;
    }
    positionals.push(arg);
  }

  const options: Record<string, string | number | boolean | undefined> = {};
  for (const [key, o] of Object.entries(spec.options)) {
    options[key] = values[key] ?? o.default ?? (o.type === 'boolean' ? false : undefined);
  }
  if (!help) {
    for (const [key, o] of Object.entries(spec.options)) {
      if (o.required && options[key] === undefined) fail(`missing required option --${kebab(key)}`);
    }
    const declared = spec.positionals ?? [];
    declared.forEach((p, i) => {
      if (positionals[i] === undefined) {
        if (p.required) fail(`missing argument <${p.name}>${p.choices ? ` (one of ${p.choices.join(', ')})` : ''}`);
      } else if (p.choices && !p.choices.includes(positionals[i])) {
        fail(`<${p.name}> must be one of ${p.choices.join(', ')}; got '${positionals[i]}'`);
      }
    });
    if (!spec.rest && positionals.length > declared.length) {
      fail(`unexpected argument '${positionals[declared.length]}'`);
    }
  }
  return { options: options as ParsedOptions<S['options']>, positionals, help };
}

/** Help text generated from the spec. */
export function formatHelp(spec: ArgsSpec): string {
  const pos = spec.positionals ?? [];
  const usage = [`Usage: ${spec.command}`, '[options]', ...pos.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`))];
  if (spec.rest) usage.push('[...]');
  const lines = [usage.join(' ')];
  if (spec.description) lines.push('', spec.description);

  const table = (rows: [string, string][]) => {
    const width = Math.min(32, Math.max(...rows.map((r) => r[0].length)) + 2);
    return rows.map(([l, r]) => (r ? `  ${l.padEnd(width)}${l.length >= width ? ' ' : ''}${r}` : `  ${l}`));
  };
  if (pos.length) {
    lines.push('', 'Arguments:');
    lines.push(
      ...table(pos.map((p) => [p.name, [p.help ?? '', p.choices ? `(choices: ${p.choices.join(', ')})` : ''].filter(Boolean).join(' ')])),
    );
  }
  const rows: [string, string][] = [];
  for (const [key, o] of Object.entries(spec.options)) {
    const flag = `--${kebab(key)}`;
    const left = `${o.short ? `-${o.short}, ` : '    '}${o.type === 'boolean' ? `${flag}, --no-${kebab(key)}` : `${flag} <${o.metavar ?? o.type}>`}`;
    const notes: string[] = [];
    if (o.choices) notes.push(`choices: ${o.choices.join(', ')}`);
    if (o.required) notes.push('required');
    if (o.default !== undefined && !(o.type === 'boolean' && o.default === false)) notes.push(`default: ${o.default}`);
    rows.push([left, [o.help ?? '', notes.length ? `(${notes.join('; ')})` : ''].filter(Boolean).join(' ')]);
  }
  rows.push(['-h, --help', 'show this help']);
  lines.push('', 'Options:', ...table(rows));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** For CLI entry points: on --help print help and exit 0; on a parse error print it and exit 2. */
export function parseArgsOrExit<const S extends ArgsSpec>(argv: readonly string[], spec: S): ParsedArgs<S> {
  const proc = (
    globalThis as unknown as {
      process: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown }; exit(code: number): never };
    }
  ).process;
  let parsed: ParsedArgs<S>;
  try {
    parsed = parseArgs(argv, spec);
  } catch (e) {
    if (e instanceof ArgsError) {
      proc.stderr.write(`${e.message}\n`);
      proc.exit(2);
    }
    throw e;
  }
  if (parsed.help) {
    proc.stdout.write(formatHelp(spec));
    proc.exit(0);
  }
  return parsed;
}

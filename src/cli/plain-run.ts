// `tsrun run` is the command a class types hundreds of times, and loading all
// of yargs costs more than starting the container. So a well-formed
// `tsrun run …` is parsed by yargs-parser — the parser inside yargs — from
// the very same option table, and yargs itself is loaded only for everything
// else: other commands, --help, and any mistake, which yargs then explains.
// `tsrun pull` of an image that is already here, and `tsrun exec`, are nearly as short: they get the same fast path.
import parse from 'yargs-parser';
import { containerOptions, type RunArgs } from './commands/run.js';
import { pullOptions, type PullArgs } from './commands/pull.js';
import { execOptions, type ExecArgs } from './commands/exec.js';
import { fail } from '../errors.js';

const GLOBAL_STRING_OPTIONS = ['root'];

/** The parsed arguments of a plain `tsrun run`, or undefined when yargs should handle them. */
export function parsePlainRun(args: string[]): RunArgs | undefined {
  const options = Object.entries(containerOptions);
  const parsed = parse(args, {
    boolean: options.filter(([, o]) => o.type === 'boolean').map(([name]) => name),
    string: [...GLOBAL_STRING_OPTIONS, ...options.filter(([, o]) => o.type === 'string').map(([name]) => name)],
    array: options.filter(([, o]) => 'array' in o && o.array).map(([name]) => name),
    alias: Object.fromEntries(options.filter(([, o]) => 'alias' in o).map(([name, o]) => [name, (o as { alias: string }).alias])),
    // -e takes one value each time, as in docker: `-e A=1 IMAGE` must leave IMAGE alone.
    configuration: { 'greedy-arrays': false, 'boolean-negation': false, 'camel-case-expansion': false, 'parse-positional-numbers': false, 'dot-notation': false },
  });
  const known = new Set(['_', ...GLOBAL_STRING_OPTIONS, ...options.flatMap(([name, o]) => [name, ...('alias' in o ? [o.alias] : [])])]);
  const [command, image] = parsed._.map(String);
  if (command !== 'run' || 'help' in parsed) return undefined;
  const unknown = Object.keys(parsed).find((key) => !known.has(key));
  if (unknown) throw fail(`unknown flag: ${unknown.length === 1 ? '-' : '--'}${unknown}`, "see 'tsrun run --help'");
  if (!image) return undefined;
  if (typeof parsed.name === 'string' && parsed.name === '') return undefined; // `--name` without a value: let yargs say so

  const withDefaults = Object.fromEntries(options.map(([name, o]) => [name, parsed[name] ?? ('default' in o ? o.default : undefined)]));
  return { ...withDefaults, root: parsed.root, image, _: parsed._.map(String).filter((_, i) => i !== 1) } as unknown as RunArgs;
}

/** The parsed arguments of a plain `tsrun pull REFERENCE`, or undefined when yargs should handle them. */
export function parsePlainPull(args: string[]): PullArgs | undefined {
  const options = Object.entries(pullOptions);
  const parsed = parse(args, {
    boolean: options.filter(([, o]) => o.type === 'boolean').map(([name]) => name),
    string: [...GLOBAL_STRING_OPTIONS, ...options.filter(([, o]) => o.type === 'string').map(([name]) => name)],
    alias: Object.fromEntries(options.filter(([, o]) => 'alias' in o).map(([name, o]) => [name, (o as { alias: string }).alias])),
    configuration: { 'boolean-negation': false, 'camel-case-expansion': false, 'parse-positional-numbers': false, 'dot-notation': false },
  });
  const known = new Set(['_', ...GLOBAL_STRING_OPTIONS, ...options.flatMap(([name, o]) => [name, ...('alias' in o ? [o.alias] : [])])]);
  const [command, reference, ...extra] = parsed._.map(String);
  // Anything unusual (help, unknown flags, a missing or extra reference) goes to yargs, which explains it.
  if (command !== 'pull' || !reference || extra.length > 0 || Object.keys(parsed).some((key) => !known.has(key))) return undefined;
  return { root: parsed.root, reference, platform: parsed.platform, quiet: parsed.quiet ?? false };
}

/** The parsed arguments of a plain `tsrun exec CONTAINER COMMAND…` (its tail marked by markCommandTail), or undefined. */
export function parsePlainExec(args: string[]): ExecArgs | undefined {
  const options = Object.entries(execOptions);
  const parsed = parse(args, {
    boolean: options.filter(([, o]) => o.type === 'boolean').map(([name]) => name),
    string: [...GLOBAL_STRING_OPTIONS, ...options.filter(([, o]) => o.type === 'string').map(([name]) => name)],
    array: options.filter(([, o]) => 'array' in o && o.array).map(([name]) => name),
    alias: Object.fromEntries(options.filter(([, o]) => 'alias' in o).map(([name, o]) => [name, (o as { alias: string }).alias])),
    configuration: { 'greedy-arrays': false, 'boolean-negation': false, 'camel-case-expansion': false, 'parse-positional-numbers': false, 'dot-notation': false },
  });
  const known = new Set(['_', ...GLOBAL_STRING_OPTIONS, ...options.flatMap(([name, o]) => [name, ...('alias' in o ? [o.alias] : [])])]);
  const [command, container, ...tail] = parsed._.map(String);
  if (command !== 'exec' || !container || tail.length === 0 || 'help' in parsed) return undefined;
  if (Object.keys(parsed).some((key) => !known.has(key))) return undefined; // yargs names the unknown flag
  const withDefaults = Object.fromEntries(options.map(([name, o]) => [name, parsed[name] ?? ('default' in o ? o.default : undefined)]));
  return { ...withDefaults, root: parsed.root, container, _: ['exec', ...tail] } as unknown as ExecArgs;
}

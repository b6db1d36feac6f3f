// `tsrun run` is the command a class types hundreds of times, and loading all
// of yargs costs more than starting the container. So a well-formed
// `tsrun run …` is parsed by yargs-parser — the parser inside yargs — from
// the very same option table, and yargs itself is loaded only for everything
// else: other commands, --help, and any mistake, which yargs then explains.
// `tsrun pull` of an image that is already here, and `tsrun exec`, are nearly as short: they get the same fast path.
import parse from 'yargs-parser';
import { containerOptions, type RunArgs } from './run-options.js';
import { pullOptions, type PullArgs } from './commands/pull.js';
import { execOptions, type ExecArgs } from './commands/exec.js';
import { fail } from '../errors.js';

const GLOBAL_STRING_OPTIONS = ['root'];

type OptionTable = Record<string, { type: string; alias?: string; array?: boolean; default?: unknown }>;

/** `args` parsed by yargs-parser from a command's own option table, and the option names it knows. */
function parseWith(args: string[], table: OptionTable) {
  const options = Object.entries(table);
  const parsed = parse(args, {
    boolean: options.filter(([, o]) => o.type === 'boolean').map(([name]) => name),
    string: [...GLOBAL_STRING_OPTIONS, ...options.filter(([, o]) => o.type === 'string').map(([name]) => name)],
    array: options.filter(([, o]) => o.array).map(([name]) => name),
    alias: Object.fromEntries(options.filter(([, o]) => o.alias).map(([name, o]) => [name, o.alias!])),
    // -e takes one value each time, as in docker: `-e A=1 IMAGE` must leave IMAGE alone.
    configuration: { 'greedy-arrays': false, 'boolean-negation': false, 'camel-case-expansion': false, 'parse-positional-numbers': false, 'dot-notation': false },
  });
  const known = new Set(['_', ...GLOBAL_STRING_OPTIONS, ...options.flatMap(([name, o]) => [name, ...(o.alias ? [o.alias] : [])])]);
  const withDefaults = Object.fromEntries(options.map(([name, o]) => [name, parsed[name] ?? o.default]));
  return { parsed, unknown: Object.keys(parsed).find((key) => !known.has(key)), withDefaults };
}

/** The parsed arguments of a plain `tsrun run`, or undefined when yargs should handle them. */
export function parsePlainRun(args: string[]): RunArgs | undefined {
  const { parsed, unknown, withDefaults } = parseWith(args, containerOptions);
  const [command, image] = parsed._.map(String);
  if (command !== 'run' || 'help' in parsed) return undefined;
  if (unknown) throw fail(`unknown flag: ${unknown.length === 1 ? '-' : '--'}${unknown}`, "see 'tsrun run --help'");
  if (!image) return undefined;
  if (typeof parsed.name === 'string' && parsed.name === '') return undefined; // `--name` without a value: let yargs say so
  return { ...withDefaults, root: parsed.root, image, _: parsed._.map(String).filter((_, i) => i !== 1) } as unknown as RunArgs;
}

/** The parsed arguments of a plain `tsrun pull REFERENCE`, or undefined when yargs should handle them. */
export function parsePlainPull(args: string[]): PullArgs | undefined {
  const { parsed, unknown, withDefaults } = parseWith(args, pullOptions);
  const [command, reference, ...extra] = parsed._.map(String);
  // Anything unusual (help, unknown flags, a missing or extra reference) goes to yargs, which explains it.
  if (command !== 'pull' || !reference || extra.length > 0 || 'help' in parsed || unknown) return undefined;
  return { ...withDefaults, root: parsed.root, reference } as unknown as PullArgs;
}

/** The parsed arguments of a plain `tsrun exec CONTAINER COMMAND…` (its tail marked by markCommandTail), or undefined. */
export function parsePlainExec(args: string[]): ExecArgs | undefined {
  const { parsed, unknown, withDefaults } = parseWith(args, execOptions);
  const [command, container, ...tail] = parsed._.map(String);
  if (command !== 'exec' || !container || tail.length === 0 || 'help' in parsed || unknown) return undefined; // yargs explains
  return { ...withDefaults, root: parsed.root, container, _: ['exec', ...tail] } as unknown as ExecArgs;
}

// tsrun's command line: yargs parses flags into plain options and each command
// calls one function. Commands import their implementation lazily, so
// `tsrun run` never loads the code of `tsrun load`.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatError, exitCodeOf } from '../errors.js';
import { commands } from './commands/index.js';
import { markCommandTail } from './command-tail.js';
import { containerOptions } from './commands/run.js';

const args = markCommandTail(hideBin(process.argv), [{ name: 'run', valueOptions: valueOptionNames(containerOptions) }], new Set(['root']));

const cli = yargs(args)
  .scriptName('tsrun')
  .usage('$0 <command> [options]\n\nA container runtime written in TypeScript, built to be read.')
  .option('root', { type: 'string', describe: 'Store directory (default $TSRUN_ROOT or /var/lib/tsrun)', global: true })
  .command(commands)
  .demandCommand(1, 'Say which command to run: see `tsrun --help`.')
  .strictCommands()
  .strictOptions()
  // docker's flags include --no-trunc: a flag of its own, not "--trunc=false"
  .parserConfiguration({ 'boolean-negation': false })
  .version(false)
  .help()
  .wrap(null)
  .fail((message, error) => {
    // A bad flag or missing argument is tsrun's error (125), like docker's.
    process.stderr.write(error ? formatError(error) + '\n' : `tsrun: ${message} — see 'tsrun --help'\n`);
    process.exit(error ? exitCodeOf(error) : 125);
  });

try {
  await cli.parseAsync();
} catch (error) {
  if (process.env.TSRUN_DEBUG) console.error(error);
  process.stderr.write(formatError(error) + '\n');
  process.exitCode = exitCodeOf(error);
}

function valueOptionNames(options: Record<string, { type: string; alias?: string }>): Set<string> {
  const names = Object.entries(options).filter(([, o]) => o.type === 'string').flatMap(([name, o]) => [name, ...(o.alias ? [o.alias] : [])]);
  return new Set(names);
}

// tsrun trace show FILE | ls [DIR]: look at traces saved by `--trace`, in the terminal.
import type { CommandModule } from 'yargs';

interface TraceArgs { action: string; path?: string }

export const traceCommand: CommandModule<object, TraceArgs> = {
  command: 'trace <action> [path]',
  describe: 'Saved traces: show FILE (a waterfall of its spans), ls [DIR] (the traces in ./traces/ or DIR)',
  builder: (yargs) => yargs
    .positional('action', { choices: ['show', 'ls'] as const, describe: 'What to do' })
    .positional('path', { type: 'string', describe: 'show: a .otlp.jsonl or .jaeger.json file; ls: a directory (default ./traces)' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { Chalk, default: chalk } = await import('chalk');
    const { fail } = await import('../../errors.js');
    const { formatMicroseconds, listSavedTraces, readTraceFile } = await import('../../trace/saved.js');
    if (argv.action === 'show') {
      if (!argv.path) throw fail('tsrun trace show needs a file', 'name one, e.g. from `tsrun trace ls`');
      const { waterfallLines } = await import('../../trace/waterfall.js');
      // Colours and the terminal's width only for a terminal; NO_COLOR (https://no-color.org) turns colours off.
      const terminal = process.stdout.isTTY === true;
      const options = {
        chalk: new Chalk({ level: terminal && !process.env.NO_COLOR ? chalk.level || 1 : 0 }),
        width: terminal ? process.stdout.columns || 80 : Infinity,
      };
      const drawn = readTraceFile(argv.path).map((trace) => waterfallLines(trace, options).join('\n') + '\n');
      process.stdout.write(drawn.join('\n'));
      return;
    }
    const dir = argv.path ?? 'traces';
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw fail(`no directory ${dir}`, '`tsrun --trace run …` saves traces in ./traces/; or name a directory: tsrun trace ls DIR');
    }
    const { formatTable } = await import('../format.js');
    const listings = listSavedTraces(dir, (message) => process.stderr.write(`tsrun: skipped: ${message}\n`));
    const started = (us: number) => new Date(us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    process.stdout.write(formatTable(
      ['FILE', 'STARTED', 'ROOT SPAN', 'DURATION', 'SPANS', 'STATUS'],
      listings.map((t) => [t.file, started(t.start), t.root, formatMicroseconds(t.duration), String(t.spans), t.status]),
    ));
  },
};

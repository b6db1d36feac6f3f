// tsrun trace show [--html] FILE | ls [DIR]: look at traces saved by `--trace`, in the terminal or as a web page.
import type { CommandModule } from 'yargs';

interface TraceArgs { action: string; path?: string; html: boolean }

export const traceCommand: CommandModule<object, TraceArgs> = {
  command: 'trace <action> [path]',
  describe: 'Saved traces: show FILE (a waterfall of its spans; --html: as a web page), ls [DIR] (the traces in ./traces/ or DIR)',
  builder: (yargs) => yargs
    .positional('action', { choices: ['show', 'ls'] as const, describe: 'What to do' })
    .positional('path', { type: 'string', describe: 'show: a .otlp.jsonl or .jaeger.json file; ls: a directory (default ./traces)' })
    .option('html', { type: 'boolean', default: false, describe: 'show: write the waterfall as one web page, which needs no network, to stdout (> trace.html)' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { Chalk, default: chalk } = await import('chalk');
    const { fail } = await import('../../errors.js');
    const { formatMicroseconds, listSavedTraces, readTraceFile } = await import('../../trace/saved.js');
    if (argv.action === 'show') {
      if (!argv.path) throw fail('tsrun trace show needs a file', 'name one, e.g. from `tsrun trace ls`');
      if (argv.html) {
        const path = await import('node:path');
        const { traceDocument } = await import('../../trace/trace-page.js');
        process.stdout.write(traceDocument(path.basename(argv.path), readTraceFile(argv.path)));
        return;
      }
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
    const { formatTable } = await import('../../docker/format.js');
    const listings = listSavedTraces(dir, (message) => process.stderr.write(`tsrun: skipped: ${message}\n`));
    const started = (us: number) => new Date(us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    process.stdout.write(formatTable(
      ['FILE', 'STARTED', 'ROOT SPAN', 'DURATION', 'SPANS', 'STATUS'],
      listings.map((t) => [t.file, started(t.start), t.root, formatMicroseconds(t.duration), String(t.spans), t.status]),
    ));
  },
};

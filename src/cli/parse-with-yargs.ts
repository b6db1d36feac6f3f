// Everything but the fast paths (plain-run.ts) is parsed by yargs, which explains a mistake and prints --help.
// The commands are given: tsrun's own (commands/index.ts), or the same with a daemon's handlers (src/cli/client/).
import type { CommandModule } from 'yargs';

/** `args` parsed by yargs, and the command they name run: one of `commands`. */
export async function parseWithYargs(args: string[], commands: CommandModule<any, any>[]): Promise<void> {
  const { default: yargs } = await import('yargs');
  await yargs(args)
    .scriptName('tsrun')
    .usage('$0 <command> [options]\n\nA container runtime written in TypeScript, built to be read.')
    .option('root', { type: 'string', describe: 'Store directory (default $TSRUN_ROOT or /var/lib/tsrun)', global: true })
    // Taken out of the arguments by takeTraceFlag before yargs sees them; declared here for --help.
    .option('trace', { type: 'string', describe: 'Save the trace in ./traces/, or --trace=DIR, --trace=FILE.json (OTLP JSON lines and Jaeger JSON)', global: true })
    .command(commands)
    .demandCommand(1, 'Say which command to run')
    .strictCommands()
    .strictOptions()
    // docker's flags include --no-trunc: a flag of its own, not "--trunc=false"; and a repeatable flag takes
    // one value each time, so `create --cap-drop ALL IMAGE` leaves IMAGE alone (as plain-run.ts parses run)
    .parserConfiguration({ 'boolean-negation': false, 'greedy-arrays': false })
    .version(false)
    // Answered by main() before yargs sees it; declared here, after yargs' own is switched off, for --help.
    // Not global: `run -v` is a volume.
    .option('version', { alias: 'v', type: 'boolean', describe: 'Print the version and quit', global: false })
    .help()
    .wrap(null)
    .fail((message, error) => {
      // A command's own error goes to main(), which reports it; a traced command still writes its trace.
      if (error) throw error;
      // A bad flag or missing argument is tsrun's error (125), like docker's. It is not traced: yargs' message
      // repeats the words it could not parse, which may be a password typed the wrong way (login -pSECRET).
      process.stderr.write(`tsrun: ${message} — see 'tsrun --help'\n`);
      process.exit(125);
    })
    .parseAsync();
}

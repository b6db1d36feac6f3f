// tsrun run [OPTIONS] IMAGE [COMMAND] [ARG...] — docker's flags, docker's meanings.
import type { CommandModule } from 'yargs';
import { fail } from '../../errors.js';
import { containerOptions, type RunArgs } from '../run-options.js';

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <image> [command..]',
  describe: 'Create and run a new container from an image',
  builder: (yargs) => yargs
    .options(containerOptions)
    .positional('image', { type: 'string', describe: 'Image reference or id' })
    .positional('command', { type: 'string', array: true, default: [], describe: 'Command and arguments' }) as never,
  handler: (argv) => runHandler(argv),
};

export async function runHandler(argv: RunArgs): Promise<void> {
  const { runtimeFor, run } = await loadRun();
  // The flag asks for one run what the variable asks for a whole session; traceContextEnv reads the variable.
  if (argv['no-traceparent']) process.env.TSRUN_NO_TRACEPARENT = '1';
  const runtime = runtimeFor(argv);
  const { runRequest } = await import('../run-request.js');
  const request = await runRequest(argv);
  if (argv.detach) {
    const { runDetached } = await import('../../run.js');
    const { container } = await runDetached(runtime, request, { observer: await teachingObserver(argv) });
    process.stdout.write(`${container.id}\n`);
    return;
  }
  const exit = await run(runtime, request, { observer: await teachingObserver(argv) });
  process.exitCode = exit.exitCode;
}

/** The code behind `tsrun run`, loaded on first use. */
export async function loadRun() {
  const [{ runtimeFor }, { run }] = await Promise.all([import('../runtime.js'), import('../../run.js')]);
  return { runtimeFor, run };
}

/** --explain and --step watch the run; without them, nothing of src/teach/ is loaded. */
async function teachingObserver(argv: { explain?: string; step: boolean }) {
  if (argv.explain === undefined && !argv.step) return undefined;
  if (argv.explain !== undefined && argv.explain !== 'text' && argv.explain !== 'json') {
    throw fail(`--explain=${argv.explain} is not a format tsrun knows`, 'use --explain or --explain=json');
  }
  const { explainObserver } = await import('../../teach/explain.js');
  const explaining = explainObserver((argv.explain ?? 'text') as 'text' | 'json');
  if (!argv.step) return explaining;
  const { stepObserver } = await import('../../teach/step.js');
  return stepObserver(explaining);
}

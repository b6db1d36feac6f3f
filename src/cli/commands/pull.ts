// tsrun pull [--platform os/arch[/variant]] [-q] NAME[:TAG|@DIGEST]: fetch an image from its registry.
import type { CommandModule } from 'yargs';

export interface PullArgs { root?: string; reference: string; platform?: string; quiet: boolean }

/** Shared with the fast path of a plain `tsrun pull` (see plain-run.ts). */
export const pullOptions = {
  platform: { type: 'string', describe: 'Pull the image for this platform (os/arch[/variant]) instead of the host\'s' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress progress output' },
} as const;

export const pullCommand: CommandModule<object, PullArgs> = {
  command: 'pull <reference>',
  describe: 'Download an image from a registry',
  builder: (yargs) => yargs
    .options(pullOptions)
    .positional('reference', { type: 'string', describe: 'NAME[:TAG] or NAME@DIGEST' }) as never,
  handler: (argv) => pullHandler(argv),
};

export async function pullHandler(argv: PullArgs): Promise<void> {
  const { parseReference } = await import('../../image/reference.js');
  const reference = parseReference(argv.reference); // refused before anything else happens
  const { runtimeFor } = await import('../runtime.js');
  const { pullImage } = await import('../../run.js');
  const { pullReporter } = await import('../pull-progress.js');
  const reporter = await pullReporter(process.stdout, argv.quiet);
  try {
    await pullImage(runtimeFor(argv), reference.canonical, { policy: 'always', platform: argv.platform, progress: reporter.tell });
  } finally {
    reporter.stop();
  }
  process.stdout.write(reference.canonical + '\n');
}

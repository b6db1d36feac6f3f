// tsrun build [-t NAME[:TAG]]… [-f FILE|-] [--build-arg K=V]… [--target STAGE] [--no-cache] [--pull] [--network MODE]
//             [--label K=V]… [--iidfile F] [-q] CONTEXT: an image from a Dockerfile (src/build/).
// The flags become a BuildRequest here; a mistake anywhere ends the build with exit code 1, as docker build's.
import type { CommandModule } from 'yargs';
import type { BuildRequest } from '../../build/build.js';

interface BuildArgs {
  root?: string; context: string; tag: string[]; file?: string; 'build-arg': string[]; target?: string;
  'no-cache': boolean; pull: boolean; network: string; label: string[]; iidfile?: string; quiet: boolean;
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <context>',
  describe: 'Build an image from a Dockerfile',
  builder: (yargs) => yargs
    .options({
      tag: { alias: 't', type: 'string', array: true, default: [], describe: 'Name the image NAME[:TAG] (repeat for more names)' },
      file: { alias: 'f', type: 'string', describe: 'The Dockerfile (default CONTEXT/Dockerfile; - reads it from standard input)' },
      'build-arg': { type: 'string', array: true, default: [], describe: 'Set a build arg: K=V (K alone: its value in this environment)' },
      target: { type: 'string', describe: 'Build this stage (FROM … AS STAGE) and the stages it needs' },
      'no-cache': { type: 'boolean', default: false, describe: 'Run every step, using no earlier build\'s images' },
      pull: { type: 'boolean', default: false, describe: 'Pull the images FROM names even when they are here' },
      network: { type: 'string', default: 'bridge', describe: 'The network of RUN\'s containers: bridge, none, host, or a user network' },
      label: { type: 'string', array: true, default: [], describe: 'Add a label K=V to the image' },
      iidfile: { type: 'string', describe: 'Write the image id to this file' },
      quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Print only the image id' },
    })
    .positional('context', { type: 'string', describe: 'The directory whose files COPY reads' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { BuildError } = await import('../../build/dockerfile.js');
    const { TsrunError } = await import('../../errors.js');
    try {
      const { runtimeFor } = await import('../runtime.js');
      const { build } = await import('../../build/build.js');
      const { PlainProgress } = await import('../../build/progress.js');
      const runtime = runtimeFor(argv);
      const image = await build(runtime, await buildRequest(argv), new PlainProgress((text) => void process.stderr.write(text), argv.quiet));
      if (argv.iidfile !== undefined) fs.writeFileSync(argv.iidfile, image.id);
      if (argv.quiet) process.stdout.write(`${image.id}\n`);
    } catch (error) {
      if (error instanceof TsrunError && !(error instanceof BuildError)) throw new BuildError(error.message, { hint: error.hint, cause: error });
      throw error;
    }
  },
};

async function buildRequest(argv: BuildArgs): Promise<BuildRequest> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { fail } = await import('../../errors.js');
  const { parseReference } = await import('../../image/reference.js');
  if (argv.context === '-') throw fail('tsrun build cannot read a context from standard input yet', 'give a directory');
  if (!fs.statSync(argv.context, { throwIfNoEntry: false })?.isDirectory()) throw fail(`unable to prepare context: ${argv.context} is not a directory`, 'give the directory whose files the Dockerfile copies');
  const file = argv.file ?? path.join(argv.context, 'Dockerfile');
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw fail(`cannot read the Dockerfile ${file}: ${(error as NodeJS.ErrnoException).code}`, 'give it with -f FILE, or put a Dockerfile in the context', error);
  }
  const tags = argv.tag.map((name) => {
    const reference = parseReference(name);
    if (reference.digest !== undefined) throw fail(`invalid tag "${name}": a tag cannot name a digest`, 'give NAME[:TAG]');
    return reference.canonical;
  });
  return {
    context: argv.context,
    dockerfile: { text, name: file === '-' ? 'Dockerfile' : path.basename(file) },
    tags,
    buildArgs: Object.fromEntries(argv['build-arg'].flatMap((entry): Array<[string, string]> => {
      const eq = entry.indexOf('=');
      if (eq === 0) throw fail(`invalid --build-arg "${entry}"`, 'write it as K=V');
      if (eq > 0) return [[entry.slice(0, eq), entry.slice(eq + 1)]];
      const value = process.env[entry]; // docker's: a bare name takes this environment's value, or is left out
      return value === undefined ? [] : [[entry, value]];
    })),
    target: argv.target,
    noCache: argv['no-cache'],
    pull: argv.pull,
    network: argv.network,
    labels: Object.fromEntries(argv.label.map((entry): [string, string] => {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw fail(`invalid --label "${entry}"`, 'write it as K=V');
      return [entry.slice(0, eq), entry.slice(eq + 1)];
    })),
  };
}

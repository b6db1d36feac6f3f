// tsrun build [-t NAME[:TAG]]… [-f FILE|-] [--build-arg K=V]… [--target STAGE] [--no-cache] [--pull] [--network MODE]
//             [--label K=V]… [--iidfile F] [-q] CONTEXT|-: an image from a Dockerfile (src/build/).
// The flags become a BuildRequest here; a mistake anywhere ends the build with exit code 1, as docker build's.
// CONTEXT `-` reads stdin, as docker build does: a tar of the context (-f then names a file inside it), or a
// Dockerfile alone; `-f -` reads the Dockerfile from stdin and the files from the CONTEXT directory.
import type { CommandModule } from 'yargs';
import type { BuildRequest } from '../../build/build.js';
import type { Runtime } from '../../runtime.js';

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
    .positional('context', {
      type: 'string',
      describe: 'The directory whose files COPY reads; - reads a tar of them (or a Dockerfile alone) from standard input',
      // yargs reads a lone `-` in a positional's place as a flag without a name, and gives '': it was `-`.
      coerce: (value: string) => (value === '' ? '-' : value),
    }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { BuildError } = await import('../../build/dockerfile.js');
    const { TsrunError } = await import('../../errors.js');
    let removeContext = () => {};
    try {
      const { runtimeFor } = await import('../runtime.js');
      const { build } = await import('../../build/build.js');
      const { PlainProgress } = await import('../../build/progress.js');
      const runtime = runtimeFor(argv);
      const context = await contextOf(runtime, argv);
      removeContext = context.remove;
      const image = await build(runtime, await buildRequest(argv, context), new PlainProgress((text) => void process.stderr.write(text), argv.quiet));
      if (argv.iidfile !== undefined) fs.writeFileSync(argv.iidfile, image.id);
      if (argv.quiet) process.stdout.write(`${image.id}\n`);
    } catch (error) {
      if (error instanceof TsrunError && !(error instanceof BuildError)) throw new BuildError(error.message, { hint: error.hint, cause: error });
      throw error;
    } finally {
      removeContext();
    }
  },
};

/** The context's directory and the Dockerfile: the CONTEXT directory and -f FILE (or CONTEXT/Dockerfile), or
 *  what stdin holds; a context from stdin is unpacked into the store's tmp, removed after the build. */
async function contextOf(runtime: Runtime, argv: BuildArgs): Promise<{ dir: string; dockerfile: { text: string; name: string }; remove: () => void }> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { fail } = await import('../../errors.js');
  if (argv.context === '-') {
    if (argv.file === '-') throw fail('invalid argument: can\'t use stdin for both build context and dockerfile', 'give the context as a directory with -f -, or the Dockerfile inside the tar on stdin');
    const { stdinContext, dockerfileIn } = await import('../../build/context.js');
    const context = await stdinContext(runtime, process.stdin);
    const dockerfile = context.dockerfileOnly && argv.file !== undefined ? undefined : dockerfileIn(context.dir, argv.file ?? 'Dockerfile');
    if (!dockerfile) {
      context.remove();
      if (context.dockerfileOnly) throw fail('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles', 'with a Dockerfile on stdin, leave -f out');
      throw fail(`Cannot locate specified Dockerfile: ${argv.file ?? 'Dockerfile'}`, 'the tar on stdin has no such file; -f names a path inside it');
    }
    return { ...context, dockerfile };
  }
  if (!fs.statSync(argv.context, { throwIfNoEntry: false })?.isDirectory()) throw fail(`unable to prepare context: ${argv.context} is not a directory`, 'give the directory whose files the Dockerfile copies');
  const file = argv.file ?? path.join(argv.context, 'Dockerfile');
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw fail(`cannot read the Dockerfile ${file}: ${(error as NodeJS.ErrnoException).code}`, 'give it with -f FILE, or put a Dockerfile in the context', error);
  }
  return { dir: argv.context, dockerfile: { text, name: file === '-' ? 'Dockerfile' : path.basename(file) }, remove: () => {} };
}

async function buildRequest(argv: BuildArgs, context: { dir: string; dockerfile: { text: string; name: string } }): Promise<BuildRequest> {
  const { fail } = await import('../../errors.js');
  const { parseReference } = await import('../../image/reference.js');
  const tags = argv.tag.map((name) => {
    const reference = parseReference(name);
    if (reference.digest !== undefined) throw fail(`invalid tag "${name}": a tag cannot name a digest`, 'give NAME[:TAG]');
    return reference.canonical;
  });
  return {
    context: context.dir,
    dockerfile: context.dockerfile,
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

// tsrun exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]: run a command in a running container.
import type { CommandModule } from 'yargs';

export interface ExecArgs { root?: string; container: string; _: (string | number)[]; interactive: boolean; tty: boolean; env: string[]; workdir?: string; user?: string }

export const execOptions = {
  interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
  env: { alias: 'e', type: 'string', array: true, default: [], describe: 'Set environment variables (KEY=VALUE)' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
} as const;

export const execCommand: CommandModule<object, ExecArgs> = {
  command: 'exec <container> [command..]',
  describe: 'Run a command in a running container',
  builder: (yargs) => yargs
    .options(execOptions)
    .positional('container', { type: 'string', describe: 'Container name or id' })
    .positional('command', { type: 'string', array: true, default: [], describe: 'Command and arguments' }) as never,
  handler: (argv) => execHandler(argv),
};

export async function execHandler(argv: ExecArgs): Promise<void> {
  const { fail } = await import('../../errors.js');
  const { runtimeFor } = await import('../runtime.js');
  const { getContainer } = await import('../../store/containers.js');
  const { execIn } = await import('../../containers/exec-in.js');
  // After `--` (put there by markCommandTail), the words are the command's, as with run.
  const command = argv._.slice(1).map(String);
  if (command.length === 0) throw fail('tsrun exec needs a command', 'e.g. tsrun exec CONTAINER sh');
  if (argv.tty && argv.interactive && !process.stdin.isTTY) throw fail('the input device is not a TTY', 'drop -t, or run tsrun from a terminal');
  const runtime = runtimeFor(argv);
  process.exitCode = await execIn(runtime, getContainer(runtime.paths, argv.container), {
    command, env: argv.env, user: argv.user, workdir: argv.workdir, interactive: argv.interactive, tty: argv.tty,
  });
}

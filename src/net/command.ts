// The network is set up the way an administrator would do it by hand, with
// ip(8), nft(8), sysctl(8) and unshare(1): every command tsrun runs is one a
// student can type. They all go through a runner, so unit tests can check the
// exact commands without root.
import { fail } from '../errors.js';

/** Runs argv (with `input` on stdin) and resolves to its stdout; a failure carries the tool's own message. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

export const runCommand: CommandRunner = async (argv, input) => {
  // Loaded at the first command: a run with --network none or host runs none.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(fail(`${argv[0]} not found`, 'install it (scripts/install.sh lists the packages tsrun needs)', error));
      }
      const said = stderr.trim().split('\n').filter(Boolean).join('; ');
      reject(fail(`${argv.join(' ')}: ${said || error.message}`, undefined, error));
    });
    // A command that exits without reading its input makes writing fail (EPIPE); its exit status says why.
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  });
};

/** Several `ip` commands in one process: each line is what you would type after `ip`.
 *  With `netnsFile`, they run inside that network namespace (nsenter --net). */
export function ipBatch(run: CommandRunner, lines: string[], netnsFile?: string): Promise<string> {
  const ip = ['ip', '-batch', '-'];
  return run(netnsFile ? ['nsenter', `--net=${netnsFile}`, ...ip] : ip, lines.join('\n') + '\n');
}

/** Whether the host has a network interface of that name. */
export async function linkExists(run: CommandRunner, name: string): Promise<boolean> {
  const links = JSON.parse(await run(['ip', '-json', 'link', 'show'])) as Array<{ ifname: string }>;
  return links.some((link) => link.ifname === name);
}

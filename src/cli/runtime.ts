// What every command needs to act: the real system calls and the store named by --root.
import type { Runtime } from '../runtime.js';
import { realSyscalls } from '../kernel/native.js';
import { makeStoreRoot, storePaths } from '../store/paths.js';
import { fail } from '../errors.js';

export function runtimeFor(argv: { root?: string }): Runtime {
  if (process.getuid?.() !== 0) {
    throw fail('tsrun needs root: it mounts filesystems and creates namespaces', 'run it with sudo, or as root');
  }
  const paths = storePaths(argv.root);
  makeStoreRoot(paths); // here, so that whichever command comes first, the store starts closed
  return { sys: realSyscalls, paths };
}

// What every stage is given to reach the world: the system calls and the store. Tests give a fake of each
// (test/helpers/fake-syscalls.ts, a store in a temporary directory); a run gets the real ones (src/cli/runtime.ts).
import type { Syscalls } from './kernel/syscalls.js';
import type { StorePaths } from './store/paths.js';

export interface Runtime {
  sys: Syscalls;
  paths: StorePaths;
}

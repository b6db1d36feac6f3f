// Compiling Docker's seccomp profile with libseccomp costs more than the rest of a run's confinement together: the
// program is kept in the store, named by the hash of what it is compiled from (the profile's text, the capabilities,
// the machine and the kernel), so a run reads it instead, without even parsing the profile.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { parseSeccompProfile, resolveSeccompProfile } from '../security/seccomp.js';
import type { SeccompCompiler } from '../security/confinement.js';
import { writeFileAtomic } from './atomic.js';
import { seccompDir, type StorePaths } from './paths.js';

export function keptSeccompPrograms(sys: Syscalls, paths: StorePaths): SeccompCompiler {
  return (text, context) => {
    const key = crypto.createHash('sha256').update(text).update(JSON.stringify(context)).digest('hex');
    const file = path.join(seccompDir(paths), `${key}.bpf`);
    try {
      return fs.readFileSync(file);
    } catch {
      const program = sys.seccomp_export_bpf(resolveSeccompProfile(parseSeccompProfile(text, 'of the container'), context));
      writeFileAtomic(file, program, 0o600);
      return program;
    }
  };
}

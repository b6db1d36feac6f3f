// When may a build step take the image an earlier build made instead of running again? When everything
// that decides what it makes is the same:
//   parent   the image it starts from (an image id names its whole chain of layers and settings)
//   text     the instruction with its variables replaced: ENV A=$V is another step when V changes
//   args     for RUN, the build args it runs with: they are in its environment, where a script it starts
//            may read them, whether or not the command line names them
//   files    for COPY, the checksum of what it copies (copy.ts): contents, modes and owners, not times
// Change one, and this step and every step after it run again (their parent changed); the steps
// before stay cached.
import crypto from 'node:crypto';

export interface StepIdentity {
  parent: string;
  text: string;
  args?: string[];
  files?: string;
}

// #region cache-key
export function cacheKey(step: StepIdentity): string {
  const identity = JSON.stringify(['tsrun-build-1', step.parent, step.text, step.args ?? [], step.files ?? '']);
  return `sha256:${crypto.createHash('sha256').update(identity).digest('hex')}`;
}
// #endregion

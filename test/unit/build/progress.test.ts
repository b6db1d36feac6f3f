// The two ways a build is told (progress.ts, src/daemon/build.ts): BuildKit's plain blocks for `tsrun build`, the
// classic builder's JSON lines for `docker build` through the daemon. The same calls, two shapes.
import { describe, expect, it } from 'vitest';
import { PlainProgress, type Progress } from '../../../src/build/progress.js';
import { ClassicProgress } from '../../../src/daemon/build.js';

const ID = `sha256:${'ab12'.repeat(16)}`;
const BASE = `sha256:${'cd34'.repeat(16)}`;
const CONTAINER = '0fc2771fe5a0'.repeat(5).slice(0, 64);

/** A small build: FROM, a RUN that prints a line, a COPY from the cache, the image named. */
function tell(progress: Progress): void {
  progress.step('FROM tsrun-demo', { n: 1, of: 3, overall: 1, total: 3 }).done(BASE);
  const run = progress.step('RUN echo hi', { n: 2, of: 3, overall: 2, total: 3 });
  run.containerCreated?.(CONTAINER);
  run.output('hi');
  run.containerRemoved?.(CONTAINER);
  run.done(ID);
  progress.warn('one or more build-args [X] were not consumed');
  progress.step('COPY a /a', { n: 3, of: 3, overall: 3, total: 3 }).cached(ID);
  progress.exported(ID, ['docker.io/library/app:1']);
}

describe('telling a build', () => {
  it('tsrun build: numbered blocks, CACHED or DONE, the output with its time, then the export', () => {
    let text = '';
    tell(new PlainProgress((chunk) => { text += chunk; }, false));
    expect(text).toMatch(/^#1 \[1\/3\] FROM tsrun-demo\n#1 DONE 0\.0s\n\n#2 \[2\/3\] RUN echo hi\n#2 0\.\d{3} hi\n#2 DONE 0\.0s\n\nWARNING: one or more build-args \[X\] were not consumed\n#3 \[3\/3\] COPY a \/a\n#3 CACHED\n\n#4 exporting to image\n#4 writing image sha256:(ab12){16} done\n#4 naming to docker.io\/library\/app:1 done\n#4 DONE 0\.0s\n\n$/);
  });

  it('tsrun build -q: nothing, but the block of a step that fails', () => {
    let text = '';
    const progress = new PlainProgress((chunk) => { text += chunk; }, true);
    tell(progress);
    expect(text).toBe('');
    const failing = progress.step('RUN exit 3', { stage: 'builder', n: 2, of: 2, overall: 2, total: 2 });
    failing.output('about to fail');
    failing.error('exit code: 3');
    expect(text).toMatch(/^#5 \[builder 2\/2\] RUN exit 3\n#5 0\.\d{3} about to fail\n#5 ERROR: exit code: 3\n\n$/);
  });

  it('the daemon: the classic builder\'s steps, a RUN\'s container, each image\'s short id, then aux and the lines docker prints last', () => {
    const messages: object[] = [];
    tell(new ClassicProgress((message) => messages.push(message)));
    expect(messages).toEqual([
      { stream: 'Step 1/3 : FROM tsrun-demo\n' },
      { stream: ' ---> cd34cd34cd34\n' },
      { stream: 'Step 2/3 : RUN echo hi\n' },
      { stream: ' ---> Running in 0fc2771fe5a0\n' },
      { stream: 'hi\n' },
      { stream: 'Removing intermediate container 0fc2771fe5a0\n' },
      { stream: ' ---> ab12ab12ab12\n' },
      { stream: '[Warning] one or more build-args [X] were not consumed\n' },
      { stream: 'Step 3/3 : COPY a /a\n' },
      { stream: ' ---> Using cache\n ---> ab12ab12ab12\n' },
      { aux: { ID } },
      { stream: 'Successfully built ab12ab12ab12\n' },
      { stream: 'Successfully tagged app:1\n' },
    ]);
  });
});

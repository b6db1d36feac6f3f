// CVE-2019-5736, as root: a container's command that is a script beginning "#!/proc/self/exe" has the
// kernel start, as its interpreter, whatever program the process was when it called execve. Had tsrun's
// child called execve on the command itself, that would be the host's node (or tsrun-monitor), run
// inside the container, by the container. The child execs tsrun-exec from a sealed copy in memory
// instead (native/src/exec.c), so the script only starts that copy again, which refuses. Each test
// shows it for one way tsrun starts a command: run, run -d, exec.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hostSnapshot, storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { EXEC_HELPER_PATH } from '../../src/kernel/native.js';

const asRoot = process.getuid?.() === 0;

/** Node skips a script's "#!" line: were /proc/self/exe the host's node, this would print. */
const SCRIPT = '#!/proc/self/exe\nconsole.log("HOST NODE " + process.version)\n';

/** The host's loader and libraries, which a glibc image (debian, ubuntu) would have of its own: without
 *  them, node could not start in the busybox image, vulnerable or not. */
const HOST_LIBRARIES = ['/lib64', '/lib/x86_64-linux-gnu'].flatMap((dir) => ['-v', `${dir}:${dir}:ro`]);

/** Until `check` holds, at most 10 s. */
async function eventually<T>(check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`not within 10 s: ${check}`);
}

const REFUSAL = /tsrun-exec: this is tsrun's helper, started without tsrun's instructions/;

describe.skipIf(!asRoot || process.arch !== 'x64')('a "#!/proc/self/exe" command never runs a host binary (as root)', () => {
  let root: string;
  let before: ReturnType<typeof hostSnapshot>;
  const run = (...args: string[]) => tsrun(root, args);

  beforeAll(async () => {
    root = await storeWithDemoImage('self-exe');
    // The image: the demo's, with the script as its command.
    const made = run('run', '--name', 'maker', '--network', 'none', 'tsrun-demo', 'sh', '-c', `printf '%s' '${SCRIPT}' > /hostnode && chmod 755 /hostnode`);
    expect(made.status).toBe(0);
    expect(run('commit', 'maker', 'self-exe:1', '-c', 'CMD ["/hostnode"]').status).toBe(0);
    run('rm', 'maker');
  });
  afterAll(() => {
    run('rm', '-f', ...run('ps', '-aq').stdout.split('\n').filter(Boolean));
    fs.rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    before = hostSnapshot();
  });
  afterEach(() => {
    const after = hostSnapshot();
    expect(after.mounts.filter((m) => !before.mounts.includes(m))).toEqual([]);
    expect(after.processes.filter((p) => !before.processes.includes(p))).toEqual([]);
  });

  it('run: the script starts tsrun-exec again, which refuses with 126', () => {
    const result = run('run', '--rm', '--network', 'none', ...HOST_LIBRARIES, 'self-exe:1');
    expect(result.stdout).not.toMatch(/HOST NODE/);
    expect(result.stderr).toMatch(REFUSAL);
    expect(result.status).toBe(126);
  });

  it('run -d: not tsrun-monitor either; the refusal is in the log', () => {
    try {
      expect(run('run', '-d', '--name', 'detached', '--network', 'none', ...HOST_LIBRARIES, 'self-exe:1').status).toBe(0);
      expect(run('wait', 'detached').stdout).toBe('126\n');
      const logs = run('logs', 'detached');
      expect(logs.stdout).not.toMatch(/HOST NODE/);
      expect(logs.stderr).not.toMatch(/tsrun-monitor/); // its usage, had the script started it
      expect(logs.stderr).toMatch(REFUSAL);
    } finally {
      run('rm', '-f', 'detached');
    }
  });

  it('exec: the same for a command exec\'d into a running container', () => {
    try {
      expect(run('run', '-d', '--name', 'box', '--network', 'none', ...HOST_LIBRARIES, 'self-exe:1', 'sleep', '60').status).toBe(0);
      const result = run('exec', 'box', '/hostnode');
      expect(result.stdout).not.toMatch(/HOST NODE/);
      expect(result.stderr).toMatch(REFUSAL);
      expect(result.status).toBe(126);
    } finally {
      run('rm', '-f', 'box');
    }
  });

  it('what a process of the container sees of tsrun-exec is a sealed memfd, which it cannot write', async () => {
    expect(run('run', '-d', '--name', 'watcher', '--network', 'none', 'self-exe:1', 'sleep', '60').status).toBe(0);
    // tsrun-exec lives a fraction of a millisecond. To look at it, give it a full pipe as its stderr:
    // it blocks writing its refusal there, until the inspecting script below kills it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-self-exe-'));
    const fifo = path.join(dir, 'stderr');
    execFileSync('mkfifo', [fifo]);
    const filler = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const full = Buffer.alloc(4096);
    try {
      for (;;) fs.writeSync(filler, full);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
    const stderr = fs.openSync(fifo, fs.constants.O_WRONLY); // blocking, unlike `filler`
    const held = spawn(process.execPath, [TSRUN, 'exec', 'watcher', '/hostnode'], { env: { ...process.env, TSRUN_ROOT: root }, stdio: ['ignore', 'ignore', stderr] });
    const exited = new Promise<number | null>((resolve) => held.on('exit', (code, signal) => resolve(code ?? 128 + os.constants.signals[signal!])));
    try {
      // From inside: find it, hold its file open as the CVE's exploit did, and try to write to it
      // while it runs (a running program's file) and once it is gone (the seal).
      const pid = await eventually(() => {
        const found = run('exec', 'watcher', 'sh', '-c', 'for p in /proc/[0-9]*; do readlink $p/exe | grep -q "^/memfd:tsrun-exec" && echo ${p#/proc/}; done').stdout.trim();
        return found || undefined;
      });
      const seen = run('exec', 'watcher', 'sh', '-c', [
        `readlink /proc/${pid}/exe`,
        `exec 3< /proc/${pid}/exe`,
        `if echo x 2>/dev/null >> /proc/${pid}/exe; then echo running: written; else echo running: not written; fi`,
        `kill ${pid}; while readlink /proc/${pid}/exe >/dev/null 2>&1; do sleep 0.05; done`,
        'if echo x 2>/dev/null >> /proc/self/fd/3; then echo gone: written; else echo gone: not written; fi',
        'wc -c <&3',
      ].join('\n'));
      const size = fs.statSync(EXEC_HELPER_PATH).size; // the copy is tsrun-exec, whole, and not node
      expect(seen.stdout.split('\n').map((line) => line.trim())).toEqual(['/memfd:tsrun-exec (deleted)', 'running: not written', 'gone: not written', String(size), '']);
      expect(await exited).toBe(143); // killed by the script, with its SIGTERM
    } finally {
      held.kill('SIGKILL');
      fs.closeSync(stderr);
      fs.closeSync(filler);
      fs.rmSync(dir, { recursive: true, force: true });
      run('rm', '-f', 'watcher');
    }
  });
});

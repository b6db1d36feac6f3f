// The exec stage, plan -> spawn -> wait, with the fake spawn (test/helpers/fake-syscalls.ts): which steps the
// child is given, what is recorded once it runs, the exit code handed back, a failed step told Docker's way,
// signals passed on while it runs; and the detached start through the fake tsrun-monitor. No root needed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exec, execDetached, planProcess } from '../../../src/stages/exec.js';
import type { ContainerRecord, NamespacesPlan, RootfsPlan, RunObserver } from '../../../src/container.js';
import type { WaitStatus } from '../../../src/kernel/syscalls.js';
import { recordFailedStart } from '../../../src/containers/lifecycle.js';
import { processStartTime } from '../../../src/kernel/proc.js';
import { addContainer, getContainer } from '../../../src/store/containers.js';
import { containerDir, containerRunDir, layerDir } from '../../../src/store/paths.js';
import { TsrunError } from '../../../src/errors.js';
import { fakeSyscalls, type FakeOptions } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const { ENOENT, EACCES, EPERM } = os.constants.errno;
const ID = 'e'.repeat(64);
const LAYER = 'sha256:' + '1'.repeat(64);
/** What src/kernel/child.ts forwards to the container. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** A promise the test settles: the child exits when the test says so. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Whether `promise` has settled by the time everything already queued has run. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((resolve) => setTimeout(resolve, 50));
  return settled;
}

describe('exec stage', () => {
  let store: ReturnType<typeof tempStore>;
  let sleeper: ChildProcess | undefined;
  beforeEach(() => {
    store = tempStore();
    fs.mkdirSync(layerDir(store, LAYER), { recursive: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    if (sleeper?.pid) process.kill(sleeper.pid, 'SIGKILL');
    sleeper = undefined;
    store.remove();
  });

  /** A created container with its rw layer's directories, and a namespaces plan of two steps. `fake` may depend
   *  on the steps the child will be given (which one is the execve). */
  async function setUp(fake: FakeOptions | ((plan: { execve: number }) => FakeOptions) = {}, config: Partial<ContainerRecord['config']> = {}) {
    fs.rmSync(containerDir(store, ID), { recursive: true, force: true }); // a test may set up more than once
    const planning = { sys: fakeSyscalls(), paths: store };
    const container = await addContainer(planning.sys, store, {
      id: ID, name: 'box', created: new Date().toISOString(),
      image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [LAYER] },
      config: { argv: ['sh', '-c', 'exit 3'], env: ['PATH=/usr/bin:/bin'], workingDir: '/', user: '', hostname: 'box', tty: false, interactive: false, autoRemove: false, network: 'none', ...config },
      state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
    });
    const upperdir = path.join(containerDir(store, ID), 'upper');
    const mountpoint = path.join(containerRunDir(store, ID), 'rootfs');
    for (const dir of [upperdir, mountpoint]) fs.mkdirSync(dir, { recursive: true });
    const rootfs: RootfsPlan = { lowerdirs: [layerDir(store, LAYER)], upperdir, workdir: path.join(containerDir(store, ID), 'work'), mountpoint, steps: [] };
    const ns: NamespacesPlan = {
      cloneFlags: ['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWPID'],
      cgroup: { version: 2, dirs: [], writes: [], joins: [], byController: {}, devices: [] },
      root: mountpoint,
      steps: [{ op: 'sethostname', name: 'box' }, { op: 'chdir', path: mountpoint }],
      stepSpans: [{ name: 'tsrun.child.hostname', first: 0, count: 2 }],
    };
    const steps = [...ns.steps, ...planProcess(planning, container, rootfs).steps];
    const execve = steps.length - 1;
    const sys = fakeSyscalls({}, typeof fake === 'function' ? fake({ execve }) : fake);
    return { sys, runtime: { sys, paths: store }, container, rootfs, ns, steps, execve };
  }

  describe('exec: plan, spawn, wait', () => {
    it('spawns the namespaces\' steps then the process\'s, ending in execve, records the container running, and waits for it', async () => {
      const { sys, runtime, container, rootfs, ns, steps } = await setUp();
      const exit = await exec(runtime, container, rootfs, ns);

      const spawned = sys.calls.filter((call) => call.name === 'spawn');
      expect(spawned).toHaveLength(1);
      const request = spawned[0]!.args[0] as { cloneFlags: string[]; steps: typeof steps; stdio: number[]; tty: boolean };
      expect(request.cloneFlags).toEqual(ns.cloneFlags);
      expect(request.steps.slice(0, ns.steps.length)).toEqual(ns.steps);
      expect(request.steps).toEqual(steps);
      expect(request.steps.at(-1)).toEqual({ op: 'execve', file: 'sh', search: ['/usr/bin', '/bin'], argv: ['sh', '-c', 'exit 3'], envp: expect.arrayContaining(['PATH=/usr/bin:/bin', 'HOME=/root']) });
      expect(request.stdio).toEqual([-1, 1, 2]); // without -i, /dev/null
      expect(request.tty).toBe(false);
      // Watched from the moment it exists, then waited for.
      expect(sys.calls.map((call) => call.name)).toEqual(expect.arrayContaining(['spawn', 'waitpid']));
      expect(sys.calls.find((call) => call.name === 'waitpid')!.args).toEqual([process.pid]);

      expect(exit).toMatchObject({ pid: process.pid, exitCode: 0, signal: null });
      expect(getContainer(store, ID).state).toEqual({
        status: 'running', pid: process.pid, pidStartTime: processStartTime(process.pid), exitCode: null,
        startedAt: exit.startedAt, finishedAt: null, error: '',
      });
    });

    it('gives the child tsrun\'s stdin only with -i, and with -t a pty instead of all three', async () => {
      const io = { stdin: 10, stdout: 11, stderr: 12 };
      const stdio = async (config: Partial<ContainerRecord['config']>) => {
        const { sys, runtime, container, rootfs, ns } = await setUp({}, config);
        await exec(runtime, container, rootfs, ns, io);
        return (sys.calls.find((call) => call.name === 'spawn')!.args[0] as { stdio: number[] }).stdio;
      };
      expect(await stdio({})).toEqual([-1, 11, 12]);
      expect(await stdio({ interactive: true })).toEqual([10, 11, 12]);
      expect(await stdio({ tty: true, interactive: true })).toEqual([-1, -1, -1]);
    });

    it.each<[string, WaitStatus, number, string | null]>([
      ['exit 0', { code: 0, signal: null }, 0, null],
      ['exit 3', { code: 3, signal: null }, 3, null],
      ['killed by SIGKILL: 128 + 9', { code: null, signal: 'SIGKILL' }, 137, 'SIGKILL'],
    ])('hands the container\'s exit code back (%s)', async (_, status, exitCode, signal) => {
      const { runtime, container, rootfs, ns } = await setUp({ child: { exit: status } });
      expect(await exec(runtime, container, rootfs, ns)).toMatchObject({ exitCode, signal });
    });

    it('tells the observer the process started, with its plan, only once execve succeeded', async () => {
      const started = vi.fn();
      const observer: RunObserver = { processStarted: started };
      const ok = await setUp();
      await exec(ok.runtime, ok.container, ok.rootfs, ok.ns, undefined, observer);
      expect(started).toHaveBeenCalledTimes(1);
      expect(started.mock.calls[0]![0]).toBe(process.pid);
      expect(started.mock.calls[0]![1]).toMatchObject({ argv: ['sh', '-c', 'exit 3'], uid: 0, cwd: '/' });

      started.mockClear();
      const failing = await setUp(({ execve }) => ({ child: { failStep: { step: execve, errno: ENOENT } } }));
      await expect(exec(failing.runtime, failing.container, failing.rootfs, failing.ns, undefined, observer)).rejects.toThrow(TsrunError);
      expect(started).not.toHaveBeenCalled();
    });
  });

  describe('exec: a step that fails', () => {
    it('makes a command not found 127 and one that cannot run 126, as docker does', async () => {
      const notFound = await setUp(({ execve }) => ({ child: { failStep: { step: execve, errno: ENOENT } } }));
      await expect(exec(notFound.runtime, notFound.container, notFound.rootfs, notFound.ns)).rejects.toMatchObject({ exitCode: 127, message: 'exec: "sh": executable file not found in $PATH' });
      const denied = await setUp(({ execve }) => ({ child: { failStep: { step: execve, errno: EACCES } } }));
      await expect(exec(denied.runtime, denied.container, denied.rootfs, denied.ns)).rejects.toMatchObject({ exitCode: 126, message: 'exec: "sh": permission denied' });
    });

    it('makes any other step\'s failure tsrun\'s own, 125, naming the step', async () => {
      const { runtime, container, rootfs, ns, steps } = await setUp({ child: { failStep: { step: 0, errno: EPERM } } });
      await expect(exec(runtime, container, rootfs, ns)).rejects.toMatchObject({
        exitCode: 125, message: `start container: step 1 of ${steps.length} (sethostname box): EPERM`,
      });
    });

    it('reaps the failed child before it throws, and with the pipeline\'s recordFailedStart the container is not left running', async () => {
      const exited = deferred<WaitStatus>();
      const { runtime, container, rootfs, ns } = await setUp(({ execve }) => ({ child: { failStep: { step: execve, errno: ENOENT }, exit: exited.promise } }));
      const running = exec(runtime, container, rootfs, ns);
      expect(await settledYet(running)).toBe(false); // the child is still there: not yet
      exited.resolve({ code: 127, signal: null });
      const error = await running.catch((e: unknown) => e);
      expect(error).toMatchObject({ exitCode: 127 });

      // exec records the pid as soon as the child exists, before it knows how the steps went; src/run.ts puts
      // the record right with recordFailedStart when exec throws.
      recordFailedStart(runtime, container, error);
      expect(getContainer(store, ID).state).toMatchObject({ status: 'created', pid: null, pidStartTime: null, exitCode: 127, error: 'exec: "sh": executable file not found in $PATH' });
    });
  });

  describe('exec: signals', () => {
    it('forwards the signals tsrun gets to the child while it runs, and stops forwarding once it has exited', async () => {
      const kill = vi.spyOn(process, 'kill').mockImplementation(() => true); // the child is this process: send nothing
      const before = FORWARDED.map((signal) => process.listenerCount(signal));
      const exited = deferred<WaitStatus>();
      const { runtime, container, rootfs, ns } = await setUp({ child: { exit: exited.promise } });
      const running = exec(runtime, container, rootfs, ns);
      // Once exec knows the child's pid: it has heard that execve succeeded and recorded the container running.
      await vi.waitFor(() => expect(getContainer(store, ID).state.status).toBe('running'));
      expect(FORWARDED.map((signal) => process.listenerCount(signal))).toEqual(before.map((n) => n + 1));

      process.emit('SIGUSR1', 'SIGUSR1');
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(kill.mock.calls).toEqual([[process.pid, 'SIGUSR1'], [process.pid, 'SIGUSR2']]);

      exited.resolve({ code: null, signal: 'SIGUSR1' });
      expect((await running).exitCode).toBe(128 + os.constants.signals.SIGUSR1);
      expect(FORWARDED.map((signal) => process.listenerCount(signal))).toEqual(before);
      process.emit('SIGUSR1', 'SIGUSR1');
      expect(kill).toHaveBeenCalledTimes(2);
    });

    it('stops forwarding when a step failed too', async () => {
      const before = FORWARDED.map((signal) => process.listenerCount(signal));
      const { runtime, container, rootfs, ns } = await setUp(({ execve }) => ({ child: { failStep: { step: execve, errno: ENOENT } } }));
      await expect(exec(runtime, container, rootfs, ns)).rejects.toThrow(TsrunError);
      expect(FORWARDED.map((signal) => process.listenerCount(signal))).toEqual(before);
    });
  });

  describe('execDetached: through tsrun-monitor', () => {
    /** A live process of the test's own, to be the container's pid (the monitor's is the test's). */
    function startSleeper(): number {
      sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      return sleeper.pid!;
    }

    it('asks the monitor to clone the same child, log its output and run `tsrun container-exited ID` when it exits', async () => {
      const pid = startSleeper();
      const { sys, runtime, container, rootfs, ns, steps } = await setUp({ monitor: { said: [`pid ${pid}`, 'started'] } });
      const started = await execDetached(runtime, container, rootfs, ns);

      const runDir = containerRunDir(store, ID);
      const logPath = path.join(containerDir(store, ID), `${ID}-json.log`);
      expect(sys.calls.find((call) => call.name === 'encodeSpawn')!.args).toEqual([{ cloneFlags: ns.cloneFlags, steps }]);
      const monitors = sys.calls.filter((call) => call.name === 'spawnMonitor');
      expect(monitors).toHaveLength(1);
      const request = monitors[0]!.args[0] as Record<string, unknown> & { exitCommand: string[]; env: NodeJS.ProcessEnv };
      expect(request).toMatchObject({
        logPath, logMaxBytes: 10 * 1024 * 1024, exitFile: path.join(runDir, 'exit'), stdinFifo: null, stdinOnce: false, consoleFifo: null, monitorLog: path.join(runDir, 'monitor.log'),
      });
      expect(request.exitCommand[0]).toBe(process.execPath);
      expect(request.exitCommand.slice(-4)).toEqual(['--root', store.root, 'container-exited', ID]);
      expect(request.env.TSRUN_RUN_ROOT).toBe(store.runRoot);
      expect(sys.calls.some((call) => call.name === 'spawn' || call.name === 'mknod')).toBe(false); // the monitor clones, not tsrun

      expect(started).toEqual({ pid, startedAt: expect.any(String), monitorPid: process.pid, logPath });
      expect(getContainer(store, ID).state).toEqual({
        status: 'running', pid, pidStartTime: processStartTime(pid), exitCode: null, startedAt: started.startedAt, finishedAt: null, error: '',
        monitor: { pid: process.pid, startTime: processStartTime(process.pid) }, stoppedByUser: false, restarting: false,
      });
    });

    it('with -i, makes a FIFO for stdin that `tsrun attach` writes into; takes the log size from --log-opt', async () => {
      const { sys, runtime, container, rootfs, ns } = await setUp({}, { interactive: true, logMaxSize: 4096 });
      await execDetached(runtime, container, rootfs, ns);
      const fifo = path.join(containerRunDir(store, ID), 'stdin');
      expect(sys.calls.find((call) => call.name === 'mknod')!.args).toEqual([fifo, fs.constants.S_IFIFO | 0o600, 0, 0]);
      expect(sys.calls.find((call) => call.name === 'spawnMonitor')!.args[0]).toMatchObject({ stdinFifo: fifo, stdinOnce: false, logMaxBytes: 4096 });
    });

    it('tells the monitor when the input ends with its first writer (StdinOnce: `docker run -i`)', async () => {
      const { sys, runtime, container, rootfs, ns } = await setUp({}, { interactive: true, stdinOnce: true });
      await execDetached(runtime, container, rootfs, ns);
      expect(sys.calls.find((call) => call.name === 'spawnMonitor')!.args[0]).toMatchObject({ stdinFifo: path.join(containerRunDir(store, ID), 'stdin'), stdinOnce: true });
    });

    it('with -t, gives the child a terminal and the monitor a FIFO for its size', async () => {
      const { sys, runtime, container, rootfs, ns } = await setUp({}, { tty: true });
      await execDetached(runtime, container, rootfs, ns);
      const fifo = path.join(containerRunDir(store, ID), 'console');
      expect(sys.calls.find((call) => call.name === 'mknod')!.args).toEqual([fifo, fs.constants.S_IFIFO | 0o600, 0, 0]);
      expect(sys.calls.find((call) => call.name === 'spawnMonitor')!.args[0]).toMatchObject({ consoleFifo: fifo, stdinFifo: null });
      const encoded = sys.calls.find((call) => call.name === 'encodeSpawn')!.args[0] as { steps: Array<{ op: string }> };
      expect(encoded.steps.some((step) => step.op === 'open_pty')).toBe(true);
    });

    it('turns the monitor\'s "failed STEP ERRNO" into that step\'s error, and does not record the container running', async () => {
      const { runtime, container, rootfs, ns } = await setUp(({ execve }) => ({ monitor: { failStep: { step: execve, errno: ENOENT } } }));
      await expect(execDetached(runtime, container, rootfs, ns)).rejects.toMatchObject({ exitCode: 127, message: 'exec: "sh": executable file not found in $PATH' });
      expect(getContainer(store, ID).state).toMatchObject({ status: 'created', pid: null });

      const other = await setUp({ monitor: { failStep: { step: 1, errno: ENOENT } } });
      await expect(execDetached(other.runtime, other.container, other.rootfs, other.ns)).rejects.toMatchObject({ exitCode: 125, message: expect.stringMatching(/^start container: step 2 of \d+ \(chdir .*\): ENOENT$/) });
    });

    it('says what the monitor logged when it did not start the container', async () => {
      const { runtime, container, rootfs, ns } = await setUp({ monitor: { said: [], log: 'tsrun-monitor: clone: Operation not permitted\n' } });
      await expect(execDetached(runtime, container, rootfs, ns)).rejects.toThrow('tsrun-monitor did not start the container: tsrun-monitor: clone: Operation not permitted');
      expect(getContainer(store, ID).state.status).toBe('created');
    });
  });
});

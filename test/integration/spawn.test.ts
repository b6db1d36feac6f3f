// native spawn() itself: how the child is made. The child borrows tsrun's memory (CLONE_VM | CLONE_VFORK),
// so spawn returns only once the child has called execve; after a fork step, the process that goes on
// with the steps does the same, as tsrun's own child, and spawn returns it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import type { Syscalls } from '../../src/kernel/syscalls.js';
import type { ChildStep } from '../../src/kernel/steps.js';
import { readStepFailure } from '../../src/kernel/child.js';
import { errnoName } from '../../src/errors.js';

const sys = realSyscalls;
const sleep = (seconds: string): ChildStep => ({ op: 'execve', file: '/bin/sleep', search: [], argv: ['sleep', seconds], envp: [] });
/** What the child is once its execve step has begun: tsrun-exec's sealed copy, then the command; never node. */
const AFTER_EXECVE = ['/memfd:tsrun-exec (deleted)', fs.realpathSync('/bin/sleep')];

/** Spawn `steps`, look at what the child is the moment spawn returns, then wait for it to end. */
async function programRightAfterSpawn(steps: ChildStep[]): Promise<string> {
  const child = sys.spawn({ cloneFlags: [], steps, stdio: [-1, -1, -1] });
  const program = fs.readlinkSync(`/proc/${child.pid}/exe`);
  expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 }); // ended by itself: nothing is left running
  for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  return program;
}

/** This process's children that have exited and not been waited for. */
function zombieChildren(): string[] {
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return /^State:\s+Z/m.test(status) && new RegExp(`^PPid:\\s+${process.pid}$`, 'm').test(status);
    } catch {
      return false; // gone while we looked
    }
  });
}

describe('spawn', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spawn-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns once the child has called execve: the child borrows tsrun\'s memory until then', async () => {
    // Steps that take the child milliseconds; if spawn returned before they were done, the child would still be node.
    // Its execve starts tsrun-exec, from a sealed copy, which execs the command a moment later.
    const busy = Array.from({ length: 2000 }, (_, i): ChildStep => ({ op: 'mkdir', path: path.join(dir, String(i)), mode: 0o755 }));
    expect(AFTER_EXECVE).toContain(await programRightAfterSpawn([...busy, sleep('0.3')]));
  });

  it('after a fork step, returns the process that runs the command: tsrun\'s own child, once it has called execve', async () => {
    const child = sys.spawn({ cloneFlags: [], steps: [{ op: 'fork' }, sleep('0.3')], stdio: [-1, -1, -1] });
    expect(AFTER_EXECVE).toContain(fs.readlinkSync(`/proc/${child.pid}/exe`));
    expect(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(new RegExp(`^PPid:\\s+${process.pid}$`, 'm'));
    expect(zombieChildren()).toEqual([]); // the first child, which forked and left, was reaped
    expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 });
    for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  });
});

/** A seccomp step after which openat2 answers ENOSYS, as on a kernel before Linux 5.6. */
const noOpenat2 = (): ChildStep => {
  const program = sys.seccomp_export_bpf({
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'],
    rules: [{ names: ['openat2'], action: 'SCMP_ACT_ERRNO', errno: os.constants.errno.ENOSYS, args: [] }],
  });
  return { op: 'seccomp', filter: program.toString('base64') };
};

// A kernel without openat2 (before Linux 5.6) gets the child's own walk (native/src/child.cc, WalkBeneath).
// To run it here, a seccomp step first makes openat2 answer ENOSYS, as such a kernel does; the in-root steps
// after it must give the same answers as openat2's RESOLVE_IN_ROOT: symlinks followed inside, ".." kept in.
describe('the walk inside a root, without openat2', () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-walk-'));
  const root = path.join(top, 'root');
  const host = path.join(top, 'host'); // what the image's symlinks point at: nothing may appear in it
  afterAll(() => fs.rmSync(top, { recursive: true, force: true }));
  /** Runs the steps after the seccomp step, then /bin/true; the failed step's errno name, or 'ok'. */
  async function walk(steps: ChildStep[]): Promise<string> {
    const all = [noOpenat2(), ...steps, { op: 'execve', file: '/bin/true', search: [], argv: ['true'], envp: [] } as ChildStep];
    const child = sys.spawn({ cloneFlags: [], steps: all, stdio: [-1, -1, -1] });
    const failure = await readStepFailure(child.errorFd);
    await sys.waitpid(child.pid);
    for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
    return failure ? `step ${failure.step}: ${errnoName(failure.errno)}` : 'ok';
  }

  it('follows symlinks inside the root, keeps ".." in it, and never reaches what an absolute link names outside', async () => {
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.mkdirSync(host);
    fs.symlinkSync(host, path.join(root, 'etc')); // absolute: inside the root, that is <root><host>
    fs.symlinkSync('../../../../../..', path.join(root, 'up'));
    fs.symlinkSync('sub', path.join(root, 'inside'));
    expect(await walk([{ op: 'create_file', root, path: '/inside/made', mode: 0o644 }])).toBe('ok');
    expect(fs.existsSync(path.join(root, 'sub', 'made'))).toBe(true);
    expect(await walk([{ op: 'mkdir', root, path: '/up/climbed', mode: 0o755 }])).toBe('ok');
    expect(fs.existsSync(path.join(root, 'climbed'))).toBe(true); // ".." of the root is the root
    expect(await walk([{ op: 'create_file', root, path: '/etc/hosts', mode: 0o644 }])).toBe('step 1: ENOENT');
    expect(await walk([{ op: 'symlink', target: 'x', root, linkpath: '/up/../inside/link' }])).toBe('ok');
    expect(fs.readlinkSync(path.join(root, 'sub', 'link'))).toBe('x');
    expect(fs.readdirSync(host)).toEqual([]);
    expect(fs.readdirSync(top).sort()).toEqual(['host', 'root']);
  });
});

// tsrun's own reads (readInLayers: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) go through the addon's openat2, which
// walks the path itself (WalkBeneath) when the kernel has no openat2. To run that walk here, a node process
// calls the addon under the seccomp filter above; another, without it, gets the kernel's answers. They must agree.
describe('tsrun\'s own reads without openat2: the walk beneath a directory', () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-beneath-'));
  const tree = path.join(top, 'tree'); // the directory paths are resolved from
  afterAll(() => fs.rmSync(top, { recursive: true, force: true }));
  fs.mkdirSync(path.join(tree, 'dir'), { recursive: true });
  fs.mkdirSync(path.join(top, 'outside'));
  fs.writeFileSync(path.join(top, 'outside', 'secret'), '');
  fs.writeFileSync(path.join(tree, 'file'), '');
  fs.writeFileSync(path.join(tree, 'dir', 'inner'), '');
  fs.symlinkSync('..', path.join(tree, 'dir', 'up'));      // relative, and stays inside
  fs.symlinkSync('dir/inner', path.join(tree, 'rel'));     // relative, inside
  fs.symlinkSync('/file', path.join(tree, 'abs'));         // absolute: refused even though the top has a /file
  fs.symlinkSync('../outside', path.join(tree, 'escape')); // relative, and climbs out

  type Flags = Parameters<Syscalls['openat2']>[2];
  type Resolve = Parameters<Syscalls['openat2']>[3];
  /** A path, how to open it, and what openat2 answers: what it opened (relative to `top`), or the errno's name. */
  type Case = [file: string, resolve: Resolve, answer: string, flags?: Flags];

  const ADDON = fileURLToPath(new URL('../../native/build/Release/tsrun_native.node', import.meta.url));
  /** Runs in a node child: each case through the addon's openat2, answered with the inode opened or the errno's name. */
  const PROGRAM = `
    const fs = require('node:fs');
    const [addon, dir, cases] = process.argv.slice(1);
    const { openat2 } = require(addon);
    const dirfd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    process.stdout.write(JSON.stringify(JSON.parse(cases).map(([file, resolve, flags]) => {
      try {
        const fd = openat2(dirfd, file, flags, resolve);
        const { ino } = fs.fstatSync(fd);
        fs.closeSync(fd);
        return ino;
      } catch (error) {
        return error.code;
      }
    })));`;

  /** Each case's answer from the addon's openat2 in a node child, with or without the kernel's openat2. */
  async function answers(cases: Case[], kernel: 'with openat2' | 'without openat2'): Promise<string[]> {
    const output = path.join(top, 'answers');
    const stdout = fs.openSync(output, 'w');
    const argv = [process.execPath, '-e', PROGRAM, ADDON, tree, JSON.stringify(cases.map(([file, resolve, , flags]) => [file, resolve, flags ?? ['O_RDONLY']]))];
    const execve: ChildStep = { op: 'execve', file: process.execPath, search: [], argv, envp: [] };
    const child = sys.spawn({ cloneFlags: [], steps: kernel === 'with openat2' ? [execve] : [noOpenat2(), execve], stdio: [-1, stdout, -1] });
    try {
      expect(await readStepFailure(child.errorFd)).toBeNull();
    } finally {
      expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 });
      for (const fd of [child.errorFd, child.consoleFd, stdout]) if (fd >= 0) fs.closeSync(fd);
    }
    const names = new Map<number, string>();
    const name = (relative: string) => {
      const stat = fs.lstatSync(path.join(top, relative));
      names.set(stat.ino, relative);
      if (stat.isDirectory()) for (const entry of fs.readdirSync(path.join(top, relative))) name(path.join(relative, entry));
    };
    for (const entry of fs.readdirSync(top)) name(entry);
    const inodes: (number | string)[] = JSON.parse(fs.readFileSync(output, 'utf8'));
    fs.rmSync(output);
    return inodes.map((answer) => (typeof answer === 'number' ? names.get(answer) ?? `inode ${answer}` : answer));
  }

  /** The kernel's answers must be those written in `cases`, and the walk's the same. */
  async function expectWalkAnswersAsKernel(cases: Case[]): Promise<void> {
    const asked = cases.map(([file, resolve, , flags]) => `${file} ${resolve.join('|')} ${(flags ?? []).join('|')}`);
    const table = (answered: string[]) => asked.map((question, i) => `${question}: ${answered[i]}`);
    expect(table(await answers(cases, 'with openat2'))).toEqual(table(cases.map(([, , answer]) => answer)));
    expect(table(await answers(cases, 'without openat2'))).toEqual(table(cases.map(([, , answer]) => answer)));
  }

  it('RESOLVE_BENEATH: ".." above the top and absolute symlinks and paths are refused (EXDEV), all else followed', async () => {
    const beneath: Resolve = ['RESOLVE_BENEATH'];
    await expectWalkAnswersAsKernel([
      ['file', beneath, 'tree/file'],
      ['dir/../file', beneath, 'tree/file'],
      ['dir/up/file', beneath, 'tree/file'],
      ['rel', beneath, 'tree/dir/inner'],
      ['../outside/secret', beneath, 'EXDEV'],
      ['dir/../../outside/secret', beneath, 'EXDEV'],
      ['escape/secret', beneath, 'EXDEV'],
      ['abs', beneath, 'EXDEV'],
      ['/file', beneath, 'EXDEV'],
    ]);
  });

  it('RESOLVE_NO_SYMLINKS: a symlink anywhere on the path is refused (ELOOP), beneath the top as tsrun reads, or in it as a root', async () => {
    const tsrunReads: Resolve = ['RESOLVE_BENEATH', 'RESOLVE_NO_SYMLINKS'];
    const inRoot: Resolve = ['RESOLVE_IN_ROOT', 'RESOLVE_NO_SYMLINKS'];
    await expectWalkAnswersAsKernel([
      ['file', tsrunReads, 'tree/file'],
      ['dir/inner', tsrunReads, 'tree/dir/inner'],
      ['rel', tsrunReads, 'ELOOP'],
      ['rel', tsrunReads, 'ELOOP', ['O_PATH']],
      ['dir/up/file', tsrunReads, 'ELOOP'],
      ['abs', tsrunReads, 'ELOOP'],
      ['escape/secret', tsrunReads, 'ELOOP'],
      ['../outside/secret', tsrunReads, 'EXDEV'],
      ['dir/inner', inRoot, 'tree/dir/inner'],
      ['rel', inRoot, 'ELOOP'],
      ['dir/up/file', inRoot, 'ELOOP'],
      ['abs', inRoot, 'ELOOP'],
    ]);
  });

  it('O_NOFOLLOW: a symlink at the end is opened itself (O_PATH) or refused, not followed, whatever the resolve rules', async () => {
    await expectWalkAnswersAsKernel([
      ['rel', ['RESOLVE_BENEATH'], 'ELOOP', ['O_RDONLY', 'O_NOFOLLOW']],
      ['rel', ['RESOLVE_BENEATH'], 'tree/rel', ['O_PATH', 'O_NOFOLLOW']],
      ['rel', ['RESOLVE_BENEATH', 'RESOLVE_NO_SYMLINKS'], 'tree/rel', ['O_PATH', 'O_NOFOLLOW']],
      ['dir/up/rel', ['RESOLVE_IN_ROOT'], 'tree/rel', ['O_PATH', 'O_NOFOLLOW']], // only the last one
    ]);
  });

  it('answers ENOSYS, as the kernel did, where it cannot answer as openat2 would: a walk not kept under the top, or kept on one mount', async () => {
    const cases: Case[] = [
      ['../outside/secret', ['RESOLVE_NO_SYMLINKS'], 'outside/secret'],
      ['file', ['RESOLVE_BENEATH', 'RESOLVE_NO_XDEV'], 'tree/file'],
    ];
    expect(await answers(cases, 'with openat2')).toEqual(cases.map(([, , answer]) => answer));
    expect(await answers(cases, 'without openat2')).toEqual(['ENOSYS', 'ENOSYS']);
  });
});

// Resource limits for real (as root), on this machine's cgroups (v1 here, v2 on
// most others): each container in a cgroup of its own, joined before execve,
// removed after exit.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../../src/cgroups/layout.js';
import { planCgroup } from '../../src/cgroups/cgroup.js';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;
const tsrunCgroups = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .map((line) => line.split(' ')[4]).filter((mountPoint) => mountPoint?.startsWith('/sys/fs/cgroup'))
  .flatMap((mountPoint) => {
    const parent = path.join(mountPoint!, 'tsrun');
    // Only directories are cgroups; the files beside them are the parent's own settings.
    return fs.existsSync(parent) ? fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
  });

describe.skipIf(!asRoot)('cgroups (as root)', () => {
  let root: string;
  const run = (args: string[]) => tsrun(root, ['run', '--rm', '--network', 'none', ...args]);

  beforeAll(async () => {
    root = await storeWithDemoImage('cgroups');
  });
  afterAll(() => {
    expect(tsrunCgroups()).toEqual([]); // every container's cgroup is gone again
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('puts the container in its own cgroup, and a cgroup namespace rooted there', () => {
    const result = run(['tsrun-demo', 'cat', '/proc/self/cgroup']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/:\/$/);
  });

  it('writes the limits into the cgroup while the container runs', async () => {
    const child = spawn(process.execPath, [TSRUN, 'run', '--rm', '--network', 'none', '--name', 'limited', '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', 'tsrun-demo', 'sleep', '3'],
      { env: { ...process.env, TSRUN_ROOT: root }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) { // up to 5 s for the container to start
      await new Promise((resolve) => setTimeout(resolve, 50));
      id = tsrun(root, ['ps', '-q', '--no-trunc']).stdout.trim() || undefined;
    }
    expect(id).toBeDefined();
    const plan = planCgroup(cgroupLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8')), id!, { memory: 64 << 20, pidsLimit: 50, cpus: 0.5 });
    for (const { file, value } of plan.writes) expect(fs.readFileSync(file, 'utf8').trim(), file).toBe(value);
    expect(await exited).toBe(0);
    for (const dir of plan.dirs) expect(fs.existsSync(dir)).toBe(false);
  });

  it('reports a container killed for memory as docker does: exit 137, and OOMKilled in inspect', () => {
    const kept = (args: string[]) => tsrun(root, ['run', '--network', 'none', ...args]); // no --rm: inspect it afterwards
    expect(kept(['--name', 'hog', '--memory', '16m', '--memory-swap', '16m', 'tsrun-demo', 'tail', '/dev/zero']).status).toBe(137);
    expect(tsrun(root, ['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']).stdout).toBe('true 137\n');
    expect(kept(['--name', 'modest', '--memory', '16m', 'tsrun-demo', 'true']).status).toBe(0);
    expect(tsrun(root, ['inspect', '-f', '{{.State.OOMKilled}}', 'modest']).stdout).toBe('false\n');
    tsrun(root, ['rm', 'hog', 'modest']);
  });

  it('stops a fork loop at --pids-limit', () => {
    const result = run(['--pids-limit', '5', 'tsrun-demo', 'sh', '-c', 'i=0; while [ $i -lt 20 ]; do sleep 1 & i=$((i+1)); done; wait']);
    expect(result.stderr).toMatch(/can't fork/);
  });

  it('refuses bad limits with a clear message', () => {
    const bad = run(['--memory', 'lots', 'tsrun-demo', 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/invalid value "lots" for --memory/);
    expect(run(['--memory', '16m', '--memory-swap', '8m', 'tsrun-demo', 'true']).stderr).toMatch(/--memory-swap must be at least --memory/);
  });
});

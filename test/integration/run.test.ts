// `tsrun run` for real, as root: a container from the demo image, seen from
// inside and from the host. Every test checks that the host is left as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { dockerArchiveFromLayout, umociLayout } from '../helpers/images.js';

/** Start tsrun in the background and resolve once its output contains `marker` (within 10 s). */
function startUntil(root: string, args: string[], marker: string, stdio: 'pipe' | 'script' = 'pipe') {
  const command = stdio === 'script'
    ? spawn('script', ['-qec', [process.execPath, TSRUN, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { env: { ...process.env, TSRUN_ROOT: root } })
    : spawn(process.execPath, [TSRUN, ...args], { env: { ...process.env, TSRUN_ROOT: root } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => command.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${marker}" within 10 s; output so far: ${output}`)), 10_000);
    command.stdout!.on('data', (chunk) => {
      output += chunk;
      if (output.includes(marker)) { clearTimeout(timer); resolve(); }
    });
  });
  return { command, ready, exited, output: () => output };
}

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun run (as root)', () => {
  let root: string;
  const run = (args: string[], options = {}) => tsrun(root, args, options);

  beforeAll(async () => {
    root = await storeWithDemoImage('run');
  });
  afterAll(() => {
    run(['rm', '-f', ...run(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs a command and passes its output and exit code through', () => {
    const result = run(['run', '--rm', 'tsrun-demo', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('runs the image CMD when no command is given, and passes flags after the image to it', () => {
    expect(run(['run', '--rm', 'tsrun-demo', 'ls', '-d', '/bin']).stdout).toBe('/bin\n');
    const piped = run(['run', '--rm', '-i', 'tsrun-demo'], { input: 'echo from-cmd\n' });
    expect(piped.stdout).toBe('from-cmd\n');
  });

  it('isolates PIDs, hostname, mounts and network', () => {
    const script = [
      'echo pid=$$',
      'echo host=$(hostname)',
      'echo links=$(ls /sys/class/net | tr "\\n" " ")',
      'echo mounts=$(grep -c . /proc/self/mountinfo)',
      'echo procs=$(ls /proc | grep "^[0-9]" | tr "\\n" " ")',
      'for ns in pid mnt net uts ipc cgroup; do echo ns_$ns=$(readlink /proc/self/ns/$ns); done',
    ].join('; ');
    const result = run(['run', '--rm', '--hostname', 'box', 'tsrun-demo', 'sh', '-c', script]);
    expect(result.stderr).toBe('');
    const seen = Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split('=') as [string, string]));
    expect(seen.pid).toBe('1');
    expect(seen.host).toBe('box');
    expect(seen.links!.trim()).toBe('eth0 lo'); // the default bridge network: its veth end, and loopback
    // Only the container's own few processes, numbered from 1 in its PID namespace.
    const pids = seen.procs!.trim().split(' ').map(Number);
    expect(pids).toContain(1);
    for (const pid of pids) expect(pid).toBeLessThan(100);
    expect(Number(seen.mounts)).toBeLessThan(40);
    for (const ns of ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup']) {
      expect(seen[`ns_${ns}`]).toMatch(/^\w+:\[\d+\]$/);
      expect(seen[`ns_${ns}`]).not.toBe(fs.readlinkSync(`/proc/self/ns/${ns}`));
    }
    expect(os.hostname()).not.toBe('box');
  });

  it('gives the container a working /dev, a read-only /sys and its own /etc files', () => {
    const script = 'echo x > /dev/null && head -c 4 /dev/zero | wc -c; touch /sys/x 2>/dev/null || echo sys-ro; cat /etc/hostname; ls /dev/pts/ptmx';
    const result = run(['run', '--rm', '--hostname', 'etcbox', 'tsrun-demo', 'sh', '-c', script]);
    expect(result.stdout).toBe('4\nsys-ro\netcbox\n/dev/pts/ptmx\n');
  });

  it('applies -e, -w and -u, resolving the user through the image\'s /etc/passwd', () => {
    const result = run(['run', '--rm', '-e', 'GREETING=hi', '-w', '/tmp/work', '-u', 'student', 'tsrun-demo',
      'sh', '-c', 'echo $GREETING $(pwd) $(id -u):$(id -g) $HOME']);
    expect(result.stdout).toBe('hi /tmp/work 1000:1000 /home/student\n');
  });

  it('keeps the rw layer across start, and never writes into the image', () => {
    const script = 'cat /kept 2>/dev/null || echo none; echo kept > /kept; rm -f /bin/true';
    const first = run(['run', '--name', 'keeper', 'tsrun-demo', 'sh', '-c', script]);
    expect(first.stdout).toBe('none\n');
    const listed = run(['ps', '-a']).stdout;
    expect(listed).toMatch(/keeper/);
    expect(listed).toMatch(/Exited \(0\)/);
    const second = run(['start', '-a', 'keeper']);
    expect(second.stdout).toBe('kept\n');
    expect(second.status).toBe(0);
    // A second container from the same image still has /bin/true and no /kept.
    expect(run(['run', '--rm', 'tsrun-demo', 'sh', '-c', 'ls /bin/true; ls /kept 2>&1 || true']).stdout)
      .toMatch(/^\/bin\/true\nls: \/kept: No such file or directory\n$/);
    expect(run(['rm', 'keeper']).status).toBe(0);
    expect(run(['ps', '-a']).stdout).not.toMatch(/keeper/);
  });

  it('removes the container on exit with --rm', () => {
    run(['run', '--rm', '--name', 'gone', 'tsrun-demo', 'true']);
    expect(run(['ps', '-a']).stdout).not.toMatch(/gone/);
  });

  it('exits 127 for a missing command and 126 for one that cannot run, as docker does', () => {
    const missing = run(['run', '--rm', 'tsrun-demo', 'no-such-command']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/exec: "no-such-command": executable file not found in \$PATH/);
    const notExecutable = run(['run', '--rm', 'tsrun-demo', '/etc/passwd']);
    expect(notExecutable.status).toBe(126);
    expect(notExecutable.stderr).toMatch(/exec: "\/etc\/passwd": permission denied/);
  });

  it('exits 125 for its own errors, each with one clear line', () => {
    const unknownImage = run(['run', '--rm', '--pull', 'never', 'no-such-image', 'true']);
    expect(unknownImage.status).toBe(125);
    expect(unknownImage.stderr).toMatch(/^tsrun: unable to find image 'no-such-image' locally — .+\n$/);
    const badFlag = run(['run', '--no-such-flag', 'tsrun-demo', 'true']);
    expect(badFlag.status).toBe(125);
    run(['run', '--name', 'taken', 'tsrun-demo', 'true']);
    const taken = run(['run', '--name', 'taken', 'tsrun-demo', 'true']);
    expect(taken.status).toBe(125);
    expect(taken.stderr).toMatch(/"\/taken" is already in use/);
    run(['rm', 'taken']);
    const noCommand = run([]);
    expect([noCommand.status, noCommand.stderr]).toEqual([125, "tsrun: Say which command to run — see 'tsrun --help'\n"]);
  });

  it('prints its version with --version and -v, as docker does, and still reads -v after run as a volume', () => {
    const { version } = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) expect(run([flag])).toMatchObject({ status: 0, stdout: `tsrun version ${version}\n` });
    expect(run(['--help']).stdout).toMatch(/--version, -v|-v, --version/);
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-version-test-'));
    try {
      fs.writeFileSync(path.join(shared, 'note'), 'from the host\n');
      expect(run(['run', '--rm', '-v', `${shared}:/mnt/host:ro`, 'tsrun-demo', 'cat', '/mnt/host/note'])).toMatchObject({ status: 0, stdout: 'from the host\n' });
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it('names the step that failed in the child', () => {
    const result = run(['run', '--rm', '-w', '/etc/passwd', 'tsrun-demo', 'true']);
    expect(result.status).toBe(125);
    expect(result.stderr).toMatch(/step \d+ of \d+ \(mkdir \/etc\/passwd\): EEXIST|step \d+ of \d+ \(chdir \/etc\/passwd\): ENOTDIR/);
  });

  it('reports a container killed by SIGKILL as 137 and leaves nothing behind', async () => {
    const child = spawn(process.execPath, [TSRUN, 'run', '--rm', '--name', 'victim', 'tsrun-demo', 'sleep', '30'], {
      env: { ...process.env, TSRUN_ROOT: root }, stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let pid: number | null = null;
    for (let i = 0; i < 100 && pid === null; i++) { // up to 5 s for the container to start
      await new Promise((resolve) => setTimeout(resolve, 50));
      const victim = tsrun(root, ['inspect', '-f', '{{.State.Pid}}', 'victim']).stdout.trim();
      pid = Number(victim) > 0 ? Number(victim) : null;
    }
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    expect(await exited).toBe(137);
  });

  it('allocates a terminal with -t', () => {
    const result = spawnSync('script', ['-qec', `${process.execPath} ${TSRUN} run --rm -t tsrun-demo sh -c 'tty; stty size'`, '/dev/null'], {
      encoding: 'utf8', env: { ...process.env, TSRUN_ROOT: root }, timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^\/dev\/pts\/0\r\n\d+ \d+\r\n$/);
    expect(result.status).toBe(0);
  });

  it('runs images made by umoci and converted by skopeo, with their whiteouts applied', () => {
    const layout = umociLayout(path.join(root, 'umoci-layout'), 'v1');
    expect(run(['load', '-i', layout, '--name', 'umoci-made']).status).toBe(0);
    const archive = dockerArchiveFromLayout(layout, 'v1', path.join(root, 'skopeo.tar'), 'skopeo-made:v1');
    expect(run(['load', '-i', archive]).status).toBe(0);
    for (const image of ['umoci-made:v1', 'skopeo-made:v1']) {
      const result = run(['run', '--rm', image, 'sh', '-c', 'cat /etc/motd; ls /etc/doomed 2>&1; ls /locked']);
      expect(result.stdout).toBe('hello from umoci\nls: /etc/doomed: No such file or directory\ninside\n');
      expect(result.status).toBe(0);
    }
  });

  it('forwards SIGTERM sent to tsrun to the container', async () => {
    const running = startUntil(root, ['run', '--rm', 'tsrun-demo', 'sh', '-c', 'trap "echo got TERM; exit 42" TERM; echo ready; while true; do sleep 0.1; done'], 'ready');
    await running.ready;
    running.command.kill('SIGTERM');
    expect(await running.exited).toBe(42);
    expect(running.output()).toBe('ready\ngot TERM\n');
  });

  it('delivers Ctrl-C typed into a -it terminal to the container', async () => {
    const running = startUntil(root, ['run', '--rm', '-it', 'tsrun-demo', 'sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while true; do sleep 0.1; done'], 'ready', 'script');
    await running.ready;
    running.command.stdin!.write('\x03');
    expect(await running.exited).toBe(5);
    expect(running.output()).toMatch(/got INT/);
  });

  it('lets exactly one of several concurrent runs take a name', async () => {
    const attempts = Array.from({ length: 4 }, () => new Promise<number | null>((resolve) => {
      spawn(process.execPath, [TSRUN, 'run', '--name', 'contested', 'tsrun-demo', 'true'], { env: { ...process.env, TSRUN_ROOT: root }, stdio: 'ignore' })
        .on('exit', resolve);
    }));
    const codes = await Promise.all(attempts);
    expect(codes.filter((code) => code === 0)).toHaveLength(1);
    expect(codes.filter((code) => code === 125)).toHaveLength(3);
    expect(run(['rm', 'contested']).status).toBe(0);
  });

  it('shows a container and its image as docker-shaped JSON with inspect', () => {
    run(['run', '--network', 'none', '--name', 'inspected', '--memory', '32m', 'tsrun-demo', 'sh', '-c', 'exit 4']);
    const [container] = JSON.parse(run(['inspect', 'inspected']).stdout) as Array<Record<string, any>>;
    expect(container).toMatchObject({ Name: '/inspected', Path: 'sh', Args: ['-c', 'exit 4'], State: { Status: 'exited', Running: false, ExitCode: 4 } });
    expect(container!.HostConfig.Memory).toBe(32 * 1024 * 1024);
    expect(fs.existsSync(container!.GraphDriver.Data.UpperDir)).toBe(true);
    expect(run(['inspect', '-f', '{{.State.ExitCode}} {{.Config.Hostname}}', 'inspected']).stdout).toBe(`4 ${container!.Id.slice(0, 12)}\n`);
    const [image] = JSON.parse(run(['inspect', 'tsrun-demo']).stdout) as Array<Record<string, any>>;
    expect(image).toMatchObject({ Id: container!.Image, RepoTags: ['tsrun-demo:latest'], RootFS: { Type: 'layers' } });
    expect(run(['inspect', 'nothing-by-that-name']).status).toBe(125);
    run(['rm', 'inspected']);
  });
});

// `tsrun commit` and `tsrun save`, as root: a container deletes, replaces and
// adds files; its commit runs with exactly those changes, pushes to a real
// registry, and saves as a docker-archive that skopeo and tsrun load read.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { readLayout, tempDir } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun commit and save (as root)', () => {
  let root: string;
  let work: string;
  let registry: TestRegistry;
  const run = (...args: string[]) => tsrun(root, args);
  const ok = (...args: string[]) => {
    const result = run(...args);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    root = await storeWithDemoImage('commit');
    work = tempDir('commit');
    registry = await startRegistry();
    ok('run', '--name', 'changed', '--network', 'none', '-e', 'GREETING=hi', 'tsrun-demo', 'sh', '-c', [
      'rm /etc/group',                                   // a deletion: a whiteout
      'rm -rf /home && mkdir -p /home/new',              // a directory made again: opaque
      'echo added > /added && ln /added /added-too',     // a file and a hard link to it
      'ln -s /added /link && mkdir /tmp/kept',
      'chmod 4755 /added',
    ].join(' && '));
  });
  afterAll(async () => {
    run('rm', '-f', 'changed');
    await registry?.stop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('makes an image of the container\'s changes on top of its image, with the settings asked for', () => {
    const id = ok('commit', '-c', 'CMD ["sh", "-c", "cat /added; echo $GREETING"]', '-c', 'ENV EXTRA=1', '-m', 'tested', 'changed', 'committed:v1').trim();
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
    const layers = JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', 'committed:v1'));
    expect(layers).toHaveLength(JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', 'tsrun-demo')).length + 1);
    expect(run('run', '--rm', '--pull', 'never', '--network', 'none', 'committed:v1')).toEqual({ status: 0, stdout: 'added\nhi\n', stderr: '' });
    const seen = run('run', '--rm', '--pull', 'never', '--network', 'none', 'committed:v1', 'sh', '-c',
      'ls /etc/group 2>&1; ls -A /home; stat -c "%h %a" /added; readlink /link; ls -d /tmp/kept; echo $EXTRA; cat /etc/hostname | wc -c');
    expect(seen.stdout.split('\n')).toEqual([
      'ls: /etc/group: No such file or directory',
      'new', // /home was replaced: the image's /home/student is hidden
      '2 4755',
      '/added',
      '/tmp/kept',
      '1',
      '13', // the new container's own hostname, not the committed one's mount point
      '',
    ]);
  });

  it('freezes a running container while its changes are read, and thaws it after; --pause=false does not', async () => {
    // 40 MB of changes to read: the commit lasts long enough to be seen at work.
    ok('run', '-d', '--name', 'busy', '--network', 'none', 'tsrun-demo', 'sh', '-c', 'head -c 40000000 /dev/urandom > /big; sleep 60');
    const id = ok('inspect', '-f', '{{.Id}}', 'busy').trim();
    const freezer = `/sys/fs/cgroup/freezer/tsrun/${id}/freezer.state`;
    try {
      for (let i = 0; i < 100 && !(fs.existsSync(freezer) && ok('exec', 'busy', 'sh', '-c', 'stat -c %s /big 2>/dev/null || echo 0').trim() === '40000000'); i++) await sleep(100);
      const statesDuring = async (args: string[]) => {
        const commit = spawn(process.execPath, [TSRUN, 'commit', ...args, 'busy'], { env: { ...process.env, TSRUN_ROOT: root } });
        const done = new Promise<number | null>((resolve) => commit.on('exit', resolve));
        const states = new Set<string>();
        let exited: number | null | undefined;
        void done.then((code) => { exited = code; });
        for (let i = 0; i < 3000 && exited === undefined; i++) {
          states.add(fs.readFileSync(freezer, 'utf8').trim());
          await sleep(2);
        }
        expect(await done).toBe(0);
        return states;
      };
      expect(await statesDuring([])).toContain('FROZEN');
      expect(fs.readFileSync(freezer, 'utf8').trim()).toBe('THAWED');
      expect(await statesDuring(['--pause=false'])).not.toContain('FROZEN');
    } finally {
      run('rm', '-f', 'busy');
    }
  });

  it('pushes the committed image, and saves it as a docker-archive that skopeo and tsrun read', () => {
    ok('tag', 'committed:v1', `${registry.host}/committed:v1`);
    ok('push', '-q', `${registry.host}/committed:v1`);
    const copy = path.join(work, 'from-registry');
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${registry.host}/committed:v1`, `oci:${copy}:t`]);
    expect(readLayout(copy).manifest.layers).toHaveLength(2);

    const archive = path.join(work, 'committed.tar');
    ok('save', '-o', archive, 'committed:v1');
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' }));
    expect(inspected.Layers).toEqual(JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', 'committed:v1')));
    const elsewhere = path.join(work, 'elsewhere');
    expect(tsrun(elsewhere, ['load', '-i', archive])).toMatchObject({ status: 0, stdout: 'Loaded image: committed:v1\n' });
    expect(tsrun(elsewhere, ['inspect', '-f', '{{.Id}}', 'committed:v1']).stdout).toBe(ok('inspect', '-f', '{{.Id}}', 'committed:v1'));
    expect(run('save', '-o', path.join(work, 'none.tar'), 'no-such-image')).toMatchObject({ status: 125, stderr: expect.stringContaining('no such image: no-such-image') });
    expect(fs.readdirSync(work).filter((file) => file.includes('none.tar'))).toEqual([]);
  });
});

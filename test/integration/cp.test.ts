// `tsrun cp` and `docker cp` through tsrun's daemon, for real (as root): files both ways, on running and stopped
// containers, by docker cp's rules; and an image's symlinks that point at the host ("/data -> /tmp/host-dir",
// "/up -> ../../../../tmp/host-dir"), or a tar's names that climb out, never lead a copy out of the container.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';
import { dockerReady, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { umociImage } from '../helpers/images.js';
import { tarBytes, type TarEntry } from '../../src/image/tar-writer.js';
import { containerDir, storePaths } from '../../src/store/paths.js';

const asRoot = process.getuid?.() === 0;

/** The text of the one file in a tar. */
const fileInTar = (tar: Buffer | string) => spawnSync('tar', ['-xO'], { input: tar, encoding: 'utf8' }).stdout;

/** HEAD on the daemon's socket: the X-Docker-Container-Path-Stat header, decoded. */
function statHeader(socket: string, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http.request({ socketPath: socket, method: 'HEAD', path: url }, (res) => {
      res.resume();
      const header = res.headers['x-docker-container-path-stat'];
      resolve(typeof header === 'string' ? JSON.parse(Buffer.from(header, 'base64').toString('utf8')) : res.statusCode);
    }).on('error', reject).end();
  });
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe.skipIf(!asRoot)('tsrun cp (as root)', () => {
  let root: string;
  /** The host's side of the copies. */
  let local: string;
  /** A directory of the host's that the hostile image points at: nothing may appear in it, nothing be read from it. */
  let hostDir: string;
  const run = (args: string[], input?: Buffer) => tsrun(root, args, input === undefined ? {} : { input });
  const upper = (name: string) => path.join(containerDir(storePaths(root), run(['inspect', '-f', '{{.Id}}', name]).stdout.trim()), 'upper');
  const removing = async (names: string[], work: () => void | Promise<void>) => {
    try {
      await work();
    } finally {
      run(['rm', '-f', '-v', ...names]);
    }
  };

  beforeAll(async () => {
    root = await storeWithDemoImage('cp');
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cp-local-'));
    fs.writeFileSync(path.join(local, 'file'), 'from the host\n');
    fs.chownSync(path.join(local, 'file'), 1234, 1234);
    fs.mkdirSync(path.join(local, 'dir', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(local, 'dir', 'sub', 'f'), 'deep\n');
    hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cp-host-dir-'));
    fs.writeFileSync(path.join(hostDir, 'secret'), 'the host\'s own file\n');
    const layout = umociImage(path.join(root, 'hostile-layout'), 'latest', (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'etc'));
      fs.mkdirSync(path.join(rootfs, 'tmp'));
      fs.symlinkSync(hostDir, path.join(rootfs, 'data'));
      fs.symlinkSync(`../../../../../../..${hostDir}`, path.join(rootfs, 'up'));
      // What must not come out onto the host as it is: a set-uid program, and a node of the host's first disk.
      fs.mkdirSync(path.join(rootfs, 'planted'));
      fs.writeFileSync(path.join(rootfs, 'planted', 'suid'), '#!/bin/sh\n', { mode: 0o755 });
      fs.chmodSync(path.join(rootfs, 'planted', 'suid'), 0o4755);
      execFileSync('mknod', ['-m', '666', path.join(rootfs, 'planted', 'disk'), 'b', '8', '0']);
    });
    const loaded = run(['load', '-i', layout, '--name', 'hostile']);
    if (loaded.status !== 0) throw new Error(`loading the hostile image failed: ${loaded.stderr}`);
  });
  afterAll(() => {
    const left = run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (left.length > 0) run(['rm', '-f', '-v', ...left]);
    for (const dir of [root, local, hostDir]) fs.rmSync(dir, { recursive: true, force: true });
  });

  const hostDirUntouched = () => {
    expect(fs.readdirSync(hostDir)).toEqual(['secret']);
    expect(fs.readFileSync(path.join(hostDir, 'secret'), 'utf8')).toBe('the host\'s own file\n');
  };

  it('copies into a stopped container\'s upper dir and back out, by docker cp\'s rules', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cp-out-'));
    await removing(['stopped', 'withvolume'], () => {
      expect(run(['create', '--name', 'stopped', 'tsrun-demo', 'sh']).status).toBe(0);
      const cp = (...args: string[]) => {
        const result = run(['cp', ...args]);
        expect(result.status, result.stderr).toBe(0);
      };
      // Into an existing directory, under its own name; root's unless -a.
      cp(path.join(local, 'file'), 'stopped:/tmp/');
      expect(fs.readFileSync(path.join(upper('stopped'), 'tmp', 'file'), 'utf8')).toBe('from the host\n');
      expect(fs.statSync(path.join(upper('stopped'), 'tmp', 'file')).uid).toBe(0);
      cp('-a', path.join(local, 'file'), 'stopped:/tmp/kept');
      expect(fs.statSync(path.join(upper('stopped'), 'tmp', 'kept')).uid).toBe(1234);
      // A directory to a path that does not exist becomes it; "dir/." puts its content into one that does.
      cp(path.join(local, 'dir'), 'stopped:/newdir');
      cp(`${path.join(local, 'dir')}/.`, 'stopped:/tmp');
      expect(fs.readFileSync(path.join(upper('stopped'), 'newdir', 'sub', 'f'), 'utf8')).toBe('deep\n');
      expect(fs.readFileSync(path.join(upper('stopped'), 'tmp', 'sub', 'f'), 'utf8')).toBe('deep\n');
      // And out: into an existing directory, or as a new one.
      cp('stopped:/newdir', out);
      cp('stopped:/newdir/.', path.join(out, 'contents'));
      cp('stopped:/tmp/file', path.join(out, 'renamed'));
      expect(fs.readFileSync(path.join(out, 'newdir', 'sub', 'f'), 'utf8')).toBe('deep\n');
      expect(fs.readFileSync(path.join(out, 'contents', 'sub', 'f'), 'utf8')).toBe('deep\n');
      expect(fs.readFileSync(path.join(out, 'renamed'), 'utf8')).toBe('from the host\n');
      // A symlink is copied as a link, or with -L as what it leads to, under its own name.
      fs.symlinkSync('file', path.join(local, 'link'));
      cp(path.join(local, 'link'), 'stopped:/tmp/');
      cp('-L', path.join(local, 'link'), 'stopped:/tmp/followed');
      expect(fs.readlinkSync(path.join(upper('stopped'), 'tmp', 'link'))).toBe('file');
      expect(fs.readFileSync(path.join(upper('stopped'), 'tmp', 'followed'), 'utf8')).toBe('from the host\n');
      cp('stopped:/tmp/link', out);
      cp('-L', 'stopped:/tmp/link', path.join(out, 'followed'));
      expect(fs.readlinkSync(path.join(out, 'link'))).toBe('file');
      expect(fs.readFileSync(path.join(out, 'followed'), 'utf8')).toBe('from the host\n');
      // A file of the image (a lower layer), through the overlay.
      expect(fileInTar(run(['cp', 'stopped:/etc/passwd', '-']).stdout)).toMatch(/^root:/);

      const missing = run(['cp', 'stopped:/nothing', out]);
      expect([missing.status, missing.stderr]).toEqual([125, 'tsrun: Could not find the file /nothing in container stopped\n']);
      expect(run(['cp', path.join(local, 'dir'), 'stopped:/tmp/file']).stderr).toMatch(/cannot copy directory/);
      // A stopped container's volume is not mounted: refused, rather than written where the container never looks.
      expect(run(['create', '--name', 'withvolume', '-v', '/data', 'tsrun-demo', 'sh']).status).toBe(0);
      expect(run(['cp', path.join(local, 'file'), 'withvolume:/data/']).stderr).toMatch(/\/data\/ is in the volume mount \/data of container withvolume, which is not running/);
    });
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('copies into a running container where its process sees it, its volume included, and a tar both ways', async () => {
    await removing(['running'], async () => {
      expect(run(['run', '-d', '--name', 'running', '-v', '/data', 'tsrun-demo', 'sleep', '300']).status).toBe(0);
      expect(run(['cp', path.join(local, 'file'), 'running:/data/']).status).toBe(0);
      expect(run(['exec', 'running', 'cat', '/data/file']).stdout).toBe('from the host\n');
      expect(fs.existsSync(path.join(upper('running'), 'data', 'file'))).toBe(false); // in the volume, not the layer

      const id = run(['inspect', '-f', '{{.Id}}', 'running']).stdout.trim();
      expect(fileInTar(run(['cp', 'running:/etc/hostname', '-']).stdout)).toBe(`${id.slice(0, 12)}\n`);

      const tar = await tarOf([
        { header: { name: 'piped/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date() } },
        { header: { name: 'piped/note', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), size: 0 }, file: '/dev/null' },
      ]);
      expect(run(['cp', '-', 'running:/tmp'], tar).status).toBe(0);
      expect(run(['exec', 'running', 'ls', '/tmp/piped']).stdout).toBe('note\n');
      expect(run(['cp', '-', 'running:/etc/hostname'], tar).stderr).toMatch(/destination "running:\/etc\/hostname" must be a directory/);
    });
  });

  it('never leaves a stopped container\'s root through its image\'s symlinks, nor through a tar\'s names', async () => {
    await removing(['hostile'], async () => {
      expect(run(['create', '--name', 'hostile', 'hostile', 'sh']).status).toBe(0);
      for (const target of ['hostile:/data/', 'hostile:/up/', 'hostile:/data/secret', 'hostile:/up/secret']) {
        expect(run(['cp', path.join(local, 'file'), target]).status, target).toBe(125);
        hostDirUntouched();
      }
      for (const source of [['hostile:/data/secret'], ['hostile:/up/secret'], ['-L', 'hostile:/up']]) {
        const read = run(['cp', ...source, '-']);
        expect(read.status, source.join(' ')).toBe(125);
        expect(read.stdout).not.toContain('the host\'s own file');
      }
      // A tar that makes a link to the host's directory, then writes through it; one whose name climbs out.
      const through = await tarOf([
        { header: { name: 'esc', type: 'symlink', linkname: hostDir, mode: 0o777, uid: 0, gid: 0, mtime: new Date() } },
        { header: { name: 'esc/evil', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), size: 0 }, file: '/dev/null' },
      ]);
      expect(run(['cp', '-', 'hostile:/tmp'], through).status).toBe(125);
      hostDirUntouched();
      const climbing = await tarOf([{ header: { name: `../../../../../..${hostDir}/evil`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), size: 0 }, file: '/dev/null' }]);
      expect(run(['cp', '-', 'hostile:/tmp'], climbing).stderr).toMatch(/is outside of \/tmp/);
      hostDirUntouched();

      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cp-planted-'));
      try {
        expect(run(['cp', 'hostile:/planted', out]).status).toBe(0);
        expect(fs.readdirSync(path.join(out, 'planted'))).toEqual(['suid']);
        expect(fs.statSync(path.join(out, 'planted', 'suid')).mode & 0o7777).toBe(0o755);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  });

  it('never leaves a running container\'s root through its image\'s symlinks', async () => {
    await removing(['hostile-running'], () => {
      const started = run(['run', '-d', '--name', 'hostile-running', '--network', 'none', 'hostile', 'busybox', 'sleep', '300']);
      expect(started.status, started.stderr).toBe(0);
      expect(run(['cp', path.join(local, 'file'), 'hostile-running:/data/']).status).toBe(125);
      expect(run(['cp', path.join(local, 'file'), 'hostile-running:/up/']).status).toBe(125);
      const read = run(['cp', '-L', 'hostile-running:/up', '-']);
      expect(read.status).toBe(125);
      expect(read.stdout).not.toContain('the host\'s own file');
      hostDirUntouched();
    });
  });
});

describe.skipIf(!dockerReady)('docker cp through tsrun\'s daemon (as root)', () => {
  let daemon: TestDaemon;
  let local: string;
  beforeAll(async () => {
    daemon = await startTestDaemon('cp');
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cp-docker-'));
    fs.writeFileSync(path.join(local, 'file'), 'from the host\n');
    fs.mkdirSync(path.join(local, 'dir', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(local, 'dir', 'sub', 'f'), 'deep\n');
  });
  afterAll(async () => {
    await daemon?.stop();
    fs.rmSync(local, { recursive: true, force: true });
  });

  it('copies both ways, into running and stopped containers, with Docker\'s errors', async () => {
    const { docker } = daemon;
    const ok = (args: string[]) => {
      const result = docker(args);
      expect(result.status, result.stderr).toBe(0);
      return result;
    };
    try {
      ok(['run', '-d', '--name', 'web', 'tsrun-demo', 'sleep', '300']);
      ok(['create', '--name', 'idle', 'tsrun-demo', 'sh']);
      const id = ok(['inspect', '-f', '{{.Id}}', 'web']).stdout.trim();
      expect(fileInTar(ok(['cp', 'web:/etc/hostname', '-']).stdout)).toBe(`${id.slice(0, 12)}\n`);
      daemon.expectLogged(/GET \/v1\.\d+\/containers\/web\/archive\?path=%2Fetc%2Fhostname 200/);

      ok(['cp', path.join(local, 'file'), 'web:/tmp/']);
      expect(ok(['exec', 'web', 'cat', '/tmp/file']).stdout).toBe('from the host\n');
      daemon.expectLogged(/PUT \/v1\.\d+\/containers\/web\/archive\?.*path=%2Ftmp%2F 200/);
      ok(['cp', 'web:/tmp/file', path.join(local, 'back')]);
      expect(fs.readFileSync(path.join(local, 'back'), 'utf8')).toBe('from the host\n');

      ok(['cp', path.join(local, 'dir'), 'idle:/srv']);
      ok(['cp', 'idle:/srv/.', path.join(local, 'srv')]);
      expect(fs.readFileSync(path.join(local, 'srv', 'sub', 'f'), 'utf8')).toBe('deep\n');

      const stat = await statHeader(daemon.socket, '/v1.41/containers/web/archive?path=/tmp');
      expect(stat).toMatchObject({ name: 'tmp', mode: 2 ** 31 + 2 ** 20 + 0o777, linkTarget: '' });

      ok(['run', '-d', '--read-only', '--name', 'readonly', 'tsrun-demo', 'sleep', '300']);
      const refused = docker(['cp', path.join(local, 'file'), 'readonly:/tmp/']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('container rootfs is marked read-only');
      daemon.expectLogged(/PUT \/v1\.\d+\/containers\/readonly\/archive\?.* 403/);

      const missing = docker(['cp', 'web:/nope', local]);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('Could not find the file /nope in container web');
      const noContainer = docker(['cp', path.join(local, 'file'), 'nosuch:/tmp']);
      expect(noContainer.status).toBe(1);
      expect(noContainer.stderr).toMatch(/No such container:? ?(path: )?nosuch/);
    } finally {
      docker(['rm', '-f', 'web', 'idle', 'readonly']);
    }
  });
});

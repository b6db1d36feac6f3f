// Paths inside the container, for real (as root): an image's symlinks point wherever its author
// likes ("/etc -> /home/teacher", "../../../../tmp/x"), and tsrun still writes and mounts only inside
// the container's root: the child resolves every path of the container's inside it (src/kernel/steps.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';
import { umociImage } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('paths resolved inside the container\'s root (as root)', () => {
  let root: string;
  /** A directory of the host's that the images below point at: nothing may appear in it. */
  let hostDir: string;
  const run = (args: string[]) => tsrun(root, args);
  const load = (name: string, plant: (rootfs: string) => void) => {
    const layout = umociImage(path.join(root, `${name}-layout`), 'latest', plant);
    const loaded = run(['load', '-i', layout, '--name', name]);
    if (loaded.status !== 0) throw new Error(`loading ${name} failed: ${loaded.stderr}`);
  };

  beforeAll(async () => {
    root = await storeWithDemoImage('in-root');
    hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-host-dir-'));
    fs.writeFileSync(path.join(hostDir, 'hosts'), 'the host\'s own file\n');
    // /etc is the host's directory, by its absolute path.
    load('etc-elsewhere', (rootfs) => fs.symlinkSync(hostDir, path.join(rootfs, 'etc')));
    // /etc/hosts climbs out with "..", and /data (a volume's target) is the host's directory.
    load('climbing', (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'etc'));
      fs.symlinkSync(`../../../../../../..${hostDir}/hosts`, path.join(rootfs, 'etc', 'hosts'));
      fs.symlinkSync(hostDir, path.join(rootfs, 'data'));
    });
    // A symlink that stays inside, as systemd-resolved images have: followed, inside.
    load('resolved', (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'etc'));
      fs.mkdirSync(path.join(rootfs, 'run', 'resolve'), { recursive: true });
      fs.symlinkSync('../run/resolve/resolv.conf', path.join(rootfs, 'etc', 'resolv.conf'));
    });
  });
  afterAll(() => {
    run(['rm', '-f', ...run(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(hostDir, { recursive: true, force: true });
  });

  const hostDirUntouched = () => {
    expect(fs.readdirSync(hostDir)).toEqual(['hosts']);
    expect(fs.readFileSync(path.join(hostDir, 'hosts'), 'utf8')).toBe('the host\'s own file\n');
  };

  it('never writes the /etc files through an /etc that points at a host directory', () => {
    const result = run(['run', '--rm', '--network', 'none', 'etc-elsewhere', 'cat', '/etc/hosts']);
    hostDirUntouched();
    // Inside the root, /etc leads to a directory the image does not have: a clear failure, not the host's.
    expect(result.status).toBe(125);
    expect(result.stderr).toMatch(/create .*\/etc\/hostname\): ENOENT/);
  });

  it('never follows ".." out of the root, nor a volume target that points at the host', () => {
    const climbing = run(['run', '--rm', '--network', 'none', 'climbing', 'readlink', '/etc/hosts']);
    hostDirUntouched();
    expect(climbing.status).not.toBe(0); // its target, inside the root, is in no directory the image has
    const tmpfs = run(['run', '--rm', '--network', 'none', '--tmpfs', '/data', 'climbing', 'true']);
    hostDirUntouched();
    expect(tmpfs.stderr).toMatch(/\/data is a symbolic link/); // refused before anything runs
  });

  it('follows a symlink that stays inside the root, as Docker does', () => {
    const result = run(['run', '--rm', '--network', 'none', 'resolved', 'cat', '/run/resolve/resolv.conf']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/nameserver|search|options/); // tsrun's resolv.conf, bound where the link leads
  });
});

// A file capability through every path a layer takes, as root: an image made
// by umoci with `setcap cap_setuid=ep` on a file is loaded, run, committed,
// saved, and loaded into another store; the capability is there, byte for
// byte, at every step, and works in the container. Its value (01 00 00 02 80 …)
// is not UTF-8, which is what lost it before.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsrun } from '../helpers/cli.js';
import { tempDir } from '../helpers/images.js';
import { layerDir, storePaths } from '../../src/store/paths.js';

const asRoot = process.getuid?.() === 0;

/** An OCI layout, one layer: busybox, and a copy of it as /bin/cat with `setcap cap_setuid=ep`. */
function layoutWithFileCapability(dir: string): string {
  const bundle = `${dir}-bundle`;
  const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
  umoci('init', '--layout', dir);
  umoci('new', '--image', `${dir}:t`);
  umoci('unpack', '--image', `${dir}:t`, bundle);
  const bin = path.join(bundle, 'rootfs', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const name of ['busybox', 'cat']) fs.copyFileSync('/bin/busybox', path.join(bin, name));
  for (const applet of ['sh', 'grep', 'touch']) fs.symlinkSync('busybox', path.join(bin, applet));
  execFileSync('setcap', ['cap_setuid=ep', path.join(bin, 'cat')]);
  umoci('repack', '--image', `${dir}:t`, bundle);
  umoci('config', '--image', `${dir}:t`, '--config.cmd', 'sh');
  fs.rmSync(bundle, { recursive: true, force: true });
  return dir;
}

describe.skipIf(!asRoot)('file capabilities through load, run, commit and save (as root)', () => {
  let work: string;
  let root: string;
  let elsewhere: string;
  const ok = (store: string, ...args: string[]) => {
    const result = tsrun(store, args);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    return result.stdout;
  };
  /** getcap's word on `file` in each of the image's layers that has it. */
  const capsIn = (store: string, image: string, file: string) => {
    const layers = JSON.parse(ok(store, 'inspect', '-f', '{{json .RootFS.Layers}}', image)) as string[];
    return layers.map((diffId) => path.join(layerDir(storePaths(store), diffId), file)).filter((at) => fs.existsSync(at))
      .map((at) => execFileSync('getcap', [at], { encoding: 'utf8' }).replace(at, '').trim());
  };
  /** The effective capabilities of /bin/cat run as user 1000, from /proc/self/status (by its path: the shell
   *  would run a bare `cat` as its own busybox applet), then of grep, the same busybox without the capability. */
  const catCapEff = (store: string, image: string) =>
    ok(store, 'run', '--rm', '--pull', 'never', '--network', 'none', '-u', '1000', image, 'sh', '-c', '/bin/cat /proc/self/status | grep CapEff; grep CapEff /proc/self/status');

  beforeAll(() => {
    work = tempDir('xattrs');
    root = path.join(work, 'store');
    elsewhere = path.join(work, 'elsewhere');
  });
  afterAll(() => {
    tsrun(root, ['rm', '-f', 'capped']);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps the capability of a file in a loaded image, and it works in a container', () => {
    expect(ok(root, 'load', '-i', layoutWithFileCapability(path.join(work, 'layout')), '--name', 'caps')).toBe('Loaded image: caps:t\n');
    expect(capsIn(root, 'caps:t', 'bin/cat')).toEqual(['cap_setuid=ep']);
    // cat has CAP_SETUID (bit 7) though user 1000 runs it; grep has none.
    expect(catCapEff(root, 'caps:t')).toBe('CapEff:\t0000000000000080\nCapEff:\t0000000000000000\n');
  });

  it('keeps it through commit, save, and load into another store', () => {
    // touch copies /bin/cat up into the container's own layer, capability and all (overlayfs copies xattrs).
    ok(root, 'run', '--name', 'capped', '--pull', 'never', '--network', 'none', 'caps:t', 'touch', '/bin/cat');
    ok(root, 'commit', 'capped', 'caps:committed');
    expect(capsIn(root, 'caps:committed', 'bin/cat')).toEqual(['cap_setuid=ep', 'cap_setuid=ep']);

    const archive = path.join(work, 'caps.tar');
    ok(root, 'save', '-o', archive, 'caps:committed');
    expect(ok(elsewhere, 'load', '-i', archive)).toBe('Loaded image: caps:committed\n');
    expect(capsIn(elsewhere, 'caps:committed', 'bin/cat')).toEqual(['cap_setuid=ep', 'cap_setuid=ep']);
    expect(catCapEff(elsewhere, 'caps:committed')).toBe('CapEff:\t0000000000000080\nCapEff:\t0000000000000000\n');
  });
});

// A full disk, as root: the store on a 20 MB tmpfs. The demo image (3 MB) fits; an image with a 30 MB layer
// of random bytes does not, and neither does the commit of a container that wrote 8 MB (its tar, gzipped
// and unpacked, on top of the 8 MB of its upper dir). Each fails with one line naming ENOSPC and what to do,
// exit 125, leaves no image, layer or staging behind, and `tsrun system check` finds the store whole;
// so does a load on a disk that runs out of files at any step, the writing of its records included.
// A full disk refuses a new container without leaving half of one, and a container that filled it can be removed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsrun } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { demoLayout, tempDir, umociImage } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('a full disk (as root)', () => {
  let registry: TestRegistry;
  let images: string;
  let root: string;
  let mounted = false;
  const cli = (...args: string[]) => tsrun(root, args);
  /** What a failed command must not change: the images, the unpacked layers, the staging area. */
  const contents = () => ({
    images: cli('images', '-q', '--no-trunc').stdout,
    layers: fs.readdirSync(path.join(root, 'layers', 'sha256')).sort(),
    tmp: fs.readdirSync(path.join(root, 'tmp')),
  });
  const expectNoSpace = (result: ReturnType<typeof tsrun>) => {
    expect(result.status).toBe(125);
    expect(result.stderr).toMatch(new RegExp(`^tsrun: no space left on the device that holds ${root} \\(.*ENOSPC\\) — nothing was stored; free some space, or keep tsrun's store on a larger disk \\(--root\\), and try again\\n$`));
  };


  beforeAll(async () => {
    images = tempDir('disk-full-images');
    registry = await startRegistry();
    registry.push(await demoLayout(path.join(images, 'demo')), 'latest', 'demo:latest');
    umociImage(path.join(images, 'big'), 'latest', (rootfs) => fs.writeFileSync(path.join(rootfs, 'random'), crypto.randomBytes(30 * 1024 * 1024)));
    registry.push(path.join(images, 'big'), 'latest', 'big:latest');
    root = tempDir('disk-full');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', root]);
    mounted = true;
  });
  afterAll(async () => {
    if (mounted) {
      cli('rm', '-f', ...cli('ps', '-aq').stdout.split('\n').filter(Boolean));
      execFileSync('umount', [root]);
    }
    fs.rmSync(root, { recursive: true, force: true });
    await registry?.stop();
    fs.rmSync(images, { recursive: true, force: true });
  });

  it('pulls the demo image, and refuses the big one in one line, storing nothing of it', () => {
    expect(cli('pull', '-q', `${registry.host}/demo`)).toMatchObject({ status: 0, stderr: '' });
    const before = contents();
    expectNoSpace(cli('pull', '-q', `${registry.host}/big`));
    expect(contents()).toEqual(before);
    expect(cli('system', 'check')).toMatchObject({ status: 0, stdout: 'store OK: 1 images, 1 layers, 3 blobs, 0 containers\n' });
  });

  it('refuses a commit that does not fit in one line, storing nothing of it and keeping the container', () => {
    expect(cli('pull', '-q', `${registry.host}/demo`).status).toBe(0);
    const wrote = cli('run', '--name', 'writer', '--network', 'none', `${registry.host}/demo`, 'dd', 'if=/dev/urandom', 'of=/random', 'bs=1M', 'count=8');
    expect(wrote.status).toBe(0);
    const before = contents();
    expectNoSpace(cli('commit', 'writer', 'too-big:1'));
    expect(contents()).toEqual(before);
    expect(cli('system', 'check')).toMatchObject({ status: 0, stdout: 'store OK: 1 images, 1 layers, 3 blobs, 1 containers\n' });
    expect(cli('start', '-a', 'writer').status).toBe(0); // its changes are all still there
  });

  it('creates no container on a full disk, and removes one that filled it', () => {
    expect(cli('pull', '-q', `${registry.host}/demo`).status).toBe(0);
    const before = cli('system', 'check').stdout;
    const filler = path.join(root, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the disk is full
    }
    const refused = cli('run', '--name', 'unborn', '--network', 'none', `${registry.host}/demo`, 'true');
    expect(refused.status).toBe(125);
    expect(refused.stderr).toMatch(/^tsrun: .*ENOSPC — no space left on the device: free some space \(`tsrun system df` shows what tsrun keeps\), then try again\n$/);
    expect(cli('system', 'check').stdout).toBe(before);
    fs.rmSync(filler);

    // The container fills the disk itself: its exit cannot be written down, yet it can be removed.
    const filled = cli('run', '--name', 'filler-up', '--network', 'none', `${registry.host}/demo`, 'dd', 'if=/dev/zero', 'of=/zeros', 'bs=1M');
    expect(filled.status).toBe(125);
    expect(filled.stderr.split('\n').filter((line) => line.startsWith('tsrun:'))).toEqual([
      expect.stringMatching(/^tsrun: .*ENOSPC — no space left on the device: free some space/),
    ]);
    expect(cli('rm', 'filler-up')).toMatchObject({ status: 0, stdout: 'filler-up\n', stderr: '' });
    expect(cli('system', 'check').stdout).toBe(before);
  });

  it('stores all of a load or nothing, whichever file the disk fills at, the records\' last', () => {
    // tmpfs's nr_inodes caps the files it holds: with one file fewer than a load makes at each step,
    // the disk fills at that step, down to the moment the image's records are written.
    const layout = path.join(images, 'demo');
    const scratch = tempDir('disk-full-inodes');
    const inodesUsed = () => { const stats = fs.statfsSync(scratch); return stats.files - stats.ffree; };
    const mountedScratch = (options: string, work: () => void) => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', scratch]);
      try {
        work();
      } finally {
        execFileSync('umount', [scratch]);
      }
    };
    let needed = 0;
    mountedScratch('size=20m', () => {
      expect(tsrun(scratch, ['load', '-i', layout]).status).toBe(0);
      needed = inodesUsed();
    });
    const outcomes: string[] = [];
    try {
      for (let inodes = needed + 5; inodes > needed - 6; inodes--) {
        mountedScratch(`size=20m,nr_inodes=${inodes}`, () => {
          const loaded = tsrun(scratch, ['load', '-i', layout]);
          const check = tsrun(scratch, ['system', 'check']);
          if (loaded.status === 0) {
            expect(check.stdout, `${inodes} inodes`).toBe('store OK: 1 images, 1 layers, 3 blobs, 0 containers\n');
            outcomes.push('loaded');
          } else {
            expect(loaded.stderr, `${inodes} inodes`).toMatch(/^tsrun: no space left on the device that holds .* \(.*: ENOSPC\) — nothing was stored;.*\n$/);
            expect(check.stdout, `${inodes} inodes`).toBe('store OK: 0 images, 0 layers, 0 blobs, 0 containers\n');
            expect(fs.readdirSync(path.join(scratch, 'tmp')), `${inodes} inodes`).toEqual([]);
            outcomes.push('refused');
          }
        });
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    // Loaded while there were files enough (staging needs a few more than the store keeps), refused from then on.
    const firstRefused = outcomes.indexOf('refused');
    expect(firstRefused).toBeGreaterThan(0);
    expect(outcomes.slice(firstRefused)).toEqual(Array(outcomes.length - firstRefused).fill('refused'));
    expect(outcomes.length - firstRefused).toBeGreaterThanOrEqual(6);
  });
});

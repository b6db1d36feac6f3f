// `tsrun system check` without root: a store of real content-addressed blobs and unpacked layer directories
// in a temp dir, damaged one way at a time; each damage must be reported, and repaired when it can be,
// while what is consistent (and what a live tsrun is still building) stays.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkStore, type CheckResult } from '../../../src/store/check.js';
import { saveImage, type ImageRecord } from '../../../src/store/images.js';
import { makeStagingDir } from '../../../src/store/atomic.js';
import { processStartTime } from '../../../src/kernel/proc.js';
import { blobPath, containerDir, containerRunDir, imageRecordPath, layerDir, repositoriesPath, tmpDir, type StorePaths } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const sha = (bytes: string) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
/** A pid no process has (above the kernel's largest pid_max): the maker of a leftover. */
const DEAD_MAKER = '999999999.12345';
const LIVE_MAKER = `${process.pid}.${processStartTime(process.pid)}`;

let store: ReturnType<typeof tempStore>;
const sys = fakeSyscalls();

beforeEach(() => {
  store = tempStore();
});
afterEach(() => {
  store.remove();
});

function writeBlob(paths: StorePaths, bytes: string): string {
  const digest = sha(bytes);
  fs.mkdirSync(path.dirname(blobPath(paths, digest)), { recursive: true });
  fs.writeFileSync(blobPath(paths, digest), bytes);
  return digest;
}

/** An image as a load leaves it: config, manifest and layer blobs named by their sha256, each layer unpacked, the tag recorded. */
async function storedImage(paths: StorePaths, tag: string, layerNames: string[]): Promise<ImageRecord> {
  const layers = layerNames.map((layer) => {
    const diffId = sha(`tar of ${layer}`);
    fs.mkdirSync(path.join(layerDir(paths, diffId), 'etc'), { recursive: true });
    fs.writeFileSync(path.join(layerDir(paths, diffId), 'etc', layer), layer);
    return { diffId, digest: writeBlob(paths, `gzip of ${layer}`), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10, unpackedSize: 100 };
  });
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: layers.map((layer) => layer.diffId) } };
  const id = writeBlob(paths, JSON.stringify(config));
  const manifestDigest = writeBlob(paths, JSON.stringify({ config: id, layers: layers.map((layer) => layer.digest) }));
  return saveImage(sys, paths, {
    id, repoTags: [`docker.io/library/${tag}`], repoDigests: [], created: '2024-01-01T00:00:00.000Z',
    config, manifestDigest, layers, size: 100 * layers.length,
  });
}

function storedContainer(paths: StorePaths, id: string, name: string, image: { id: string; name: string }): void {
  fs.mkdirSync(path.join(containerDir(paths, id), 'upper'), { recursive: true });
  fs.writeFileSync(path.join(containerDir(paths, id), 'config.json'), JSON.stringify({ id, name, image: { ...image, layers: [] } }));
  fs.writeFileSync(path.join(containerDir(paths, id), 'state.json'), JSON.stringify({ status: 'exited' }));
}

/** Every path under the store, with the bytes of each file: what must not change. */
function snapshot(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      tree[path.relative(dir, full)] = entry.isDirectory() ? '<dir>' : fs.readFileSync(full, 'utf8');
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return tree;
}

const texts = (result: CheckResult) => result.problems.map((problem) => problem.text);
const lines = (result: CheckResult) => result.problems.map((problem) => `${problem.text} — ${problem.hint}`);

/** Two images sharing a layer, and a container made from one. */
async function consistentStore(): Promise<{ busybox: ImageRecord; alpine: ImageRecord }> {
  const busybox = await storedImage(store, 'busybox:latest', ['base', 'tools']);
  const alpine = await storedImage(store, 'alpine:3', ['base']);
  storedContainer(store, 'c'.repeat(64), 'web', { id: busybox.id, name: 'busybox' });
  fs.mkdirSync(path.join(containerRunDir(store, 'c'.repeat(64)), 'rootfs'), { recursive: true });
  return { busybox, alpine };
}

describe('tsrun system check', () => {
  it('finds nothing wrong in a consistent store, counts it, and --repair changes nothing', async () => {
    await consistentStore();
    // Work of a tsrun still running (this process): a staging directory and a temp file.
    fs.writeFileSync(path.join(makeStagingDir(tmpDir(store), 'pull'), 'incoming-0'), 'half a layer');
    fs.writeFileSync(path.join(store.root, 'images', `x.json.tmp-${LIVE_MAKER}-0123abcd`), '{');
    const before = snapshot(store.root);

    const checked = await checkStore(sys, store, { repair: false });
    expect(checked.problems).toEqual([]);
    expect(checked.counts).toEqual({ images: 2, layers: 2, blobs: 6, containers: 1 }); // the shared layer once
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired).toEqual([]);
    expect(repaired.problems).toEqual([]);
    expect(snapshot(store.root)).toEqual(before);
  });

  it('reports a blob whose bytes do not match its name and the images that need it; --repair removes it and says they must come again', async () => {
    const { busybox } = await consistentStore();
    const tools = busybox.layers[1]!.digest;
    fs.writeFileSync(blobPath(store, tools), 'gzip of tools, one bit flipped');

    const checked = await checkStore(sys, store, { repair: false });
    expect(lines(checked)).toEqual([
      `blob ${tools} does not match its digest: its bytes hash to ${sha('gzip of tools, one bit flipped')}; needed by busybox:latest — ` +
        '`tsrun system check --repair` removes it; then pull or load busybox:latest again',
    ]);
    expect(fs.existsSync(blobPath(store, tools))).toBe(true);

    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired.map((problem) => problem.text)).toEqual(texts(checked));
    expect(fs.existsSync(blobPath(store, tools))).toBe(false);
    expect(lines(repaired)).toEqual([`image busybox:latest: its layer blob ${tools} is missing — pull or load busybox:latest again`]);
    // The layer it was the packed copy of stays: a container runs from that.
    expect(fs.existsSync(layerDir(store, busybox.layers[1]!.diffId))).toBe(true);
  });

  it('reports missing blobs and layer directories of an image, and --repair leaves them to a new pull or load', async () => {
    const { busybox, alpine } = await consistentStore();
    fs.rmSync(layerDir(store, busybox.layers[1]!.diffId), { recursive: true });
    fs.rmSync(blobPath(store, alpine.manifestDigest!));
    fs.rmSync(blobPath(store, alpine.id));

    const expected = [
      `image alpine:3: its config blob ${alpine.id} is missing — pull or load alpine:3 again`,
      `image alpine:3: its manifest blob ${alpine.manifestDigest} is missing — pull or load alpine:3 again`,
      `image busybox:latest: its layer ${busybox.layers[1]!.diffId} is missing (${layerDir(store, busybox.layers[1]!.diffId)}) — pull or load busybox:latest again`,
    ];
    expect(lines(await checkStore(sys, store, { repair: false })).sort()).toEqual(expected);
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired).toEqual([]);
    expect(lines(repaired).sort()).toEqual(expected);
  });

  it('drops a tag that names no image, and reports (without touching) a tag the records disagree on', async () => {
    const { busybox, alpine } = await consistentStore();
    const repositories = JSON.parse(fs.readFileSync(repositoriesPath(store), 'utf8')) as Record<string, string>;
    const ghost = sha('an image that was never stored');
    repositories['docker.io/library/ghost:1'] = ghost;
    delete repositories['docker.io/library/alpine:3'];
    fs.writeFileSync(repositoriesPath(store), JSON.stringify(repositories));

    const checked = await checkStore(sys, store, { repair: false });
    expect(lines(checked)).toEqual([
      `tag ghost:1 names image ${ghost.slice(7, 19)}, which is not in the store — \`tsrun system check --repair\` drops the tag`,
      `image ${alpine.id.slice(7, 19)} is recorded as alpine:3, but that tag names nothing — tsrun tag ${alpine.id.slice(7, 19)} alpine:3 gives the tag to it`,
    ]);
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired.map((problem) => problem.text)).toEqual([texts(checked)[0]]);
    expect(texts(repaired)).toEqual([texts(checked)[1]]);
    expect(JSON.parse(fs.readFileSync(repositoriesPath(store), 'utf8'))).toEqual({ 'docker.io/library/busybox:latest': busybox.id });
  });

  it('reports an image record it cannot read, keeps it, and keeps the tag that names it', async () => {
    const { alpine } = await consistentStore();
    fs.writeFileSync(imageRecordPath(store, alpine.id), '{"id": "sha256:');
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired).toEqual([]);
    expect(lines(repaired)).toEqual([
      expect.stringMatching(new RegExp(`^image record ${imageRecordPath(store, alpine.id)} cannot be read: .*JSON.* — mend it by hand, or remove it and pull or load the image again$`)),
    ]);
    expect(fs.readFileSync(imageRecordPath(store, alpine.id), 'utf8')).toBe('{"id": "sha256:');
    expect(Object.keys(JSON.parse(fs.readFileSync(repositoriesPath(store), 'utf8')))).toContain('docker.io/library/alpine:3');
  });

  it('removes a container directory without a record; reports a container whose image is gone and leaves it be', async () => {
    await consistentStore();
    const halfRemoved = containerDir(store, 'd'.repeat(64));
    fs.mkdirSync(path.join(halfRemoved, 'upper'), { recursive: true });
    storedContainer(store, 'e'.repeat(64), 'orphan', { id: sha('gone'), name: 'gone:1' });

    const checked = await checkStore(sys, store, { repair: false });
    expect(lines(checked)).toEqual([
      `${halfRemoved} has no record: a container whose creation or removal was interrupted — \`tsrun system check --repair\` removes it`,
      `container orphan: its image gone:1 (${sha('gone').slice(7, 19)}) is not in the store — pull or load gone:1 again (the same image, ${sha('gone').slice(7, 19)}), or remove the container (tsrun rm orphan)`,
    ]);
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired.map((problem) => problem.text)).toEqual([texts(checked)[0]]);
    expect(texts(repaired)).toEqual([texts(checked)[1]]);
    expect(fs.existsSync(halfRemoved)).toBe(false);
    expect(fs.existsSync(path.join(containerDir(store, 'e'.repeat(64)), 'upper'))).toBe(true);
    expect(repaired.counts.containers).toBe(2);
  });

  it('removes what a dead tsrun was building, and nothing a live one is, nor a container\'s own files', async () => {
    await consistentStore();
    const container = containerDir(store, 'c'.repeat(64));
    const deadStaging = path.join(tmpDir(store), `pull-${DEAD_MAKER}-AbC123`);
    const oldStyle = path.join(tmpDir(store), 'load-XyZ789'); // no maker in its name: made before names carried one
    const liveStaging = makeStagingDir(tmpDir(store), 'commit');
    for (const dir of [deadStaging, oldStyle]) fs.mkdirSync(path.join(dir, 'layers', '0'), { recursive: true });
    const deadTemps = [
      path.join(store.root, `repositories.json.tmp-${DEAD_MAKER}-0123abcd`),
      path.join(container, `state.json.tmp-${DEAD_MAKER}-0123abcd`),
    ];
    const liveTemp = path.join(container, `state.json.tmp-${LIVE_MAKER}-0123abcd`);
    const usersFile = path.join(container, 'upper', `notes.tmp-${DEAD_MAKER}-0123abcd`); // the container's user's, whatever its name
    for (const file of [...deadTemps, liveTemp, usersFile]) fs.writeFileSync(file, '{');

    const checked = await checkStore(sys, store, { repair: false });
    expect(lines(checked)).toEqual([
      `${oldStyle} was left by an interrupted pull, load, commit or save — \`tsrun system check --repair\` removes it`,
      `${deadStaging} was left by an interrupted pull, load, commit or save — \`tsrun system check --repair\` removes it`,
      ...deadTemps.map((file) => `${file} is a temporary file an interrupted write left — \`tsrun system check --repair\` removes it`),
    ]);
    const repaired = await checkStore(sys, store, { repair: true });
    expect(repaired.repaired.map((problem) => problem.text)).toEqual(texts(checked));
    expect(repaired.problems).toEqual([]);
    for (const gone of [deadStaging, oldStyle, ...deadTemps]) expect(fs.existsSync(gone), gone).toBe(false);
    for (const kept of [liveStaging, liveTemp, usersFile]) expect(fs.existsSync(kept), kept).toBe(true);
  });

  it('removes the run directory of a container that no longer exists, and only that one', async () => {
    await consistentStore();
    const dangling = containerRunDir(store, 'f'.repeat(64));
    fs.mkdirSync(path.join(dangling, 'rootfs'), { recursive: true });
    fs.writeFileSync(path.join(dangling, 'exit'), '0 0 2024-01-01T00:00:00Z');

    expect(lines(await checkStore(sys, store, { repair: false }))).toEqual([
      `${dangling} is the run directory of container ffffffffffff, which no longer exists — \`tsrun system check --repair\` removes it`,
    ]);
    expect((await checkStore(sys, store, { repair: true })).problems).toEqual([]);
    expect(fs.existsSync(dangling)).toBe(false);
    expect(fs.existsSync(path.join(containerRunDir(store, 'c'.repeat(64)), 'rootfs'))).toBe(true);
  });

  it('repairs only once it holds the store lock, as a pull moves its work in only under it', async () => {
    await consistentStore();
    const leftover = path.join(tmpDir(store), `load-${DEAD_MAKER}-AbC123`);
    fs.mkdirSync(leftover, { recursive: true });
    let held = true;
    const locked = fakeSyscalls({ flock: () => !held });
    const repairing = checkStore(locked, store, { repair: true });
    await sleep(100);
    expect(fs.existsSync(leftover)).toBe(true);
    held = false;
    expect((await repairing).repaired).toHaveLength(1);
    expect(fs.existsSync(leftover)).toBe(false);
  });
});

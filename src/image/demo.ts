// `tsrun make-demo-image`: build a tiny image without docker, from the host's
// statically linked busybox, and write it as an OCI image layout, the format
// `tsrun load`, skopeo and umoci all read. Building one by hand shows what an
// image is: a tar of files, gzipped (the layer), a JSON config naming the
// layer by the digest of its tar, a manifest naming both by digest, and an
// index naming the manifest. Every timestamp is fixed, so the same busybox
// always gives the same bytes, and so the same image id.
//
// A second image, tsrun-layers, stacks two more layers on the demo's: one adds
// files, the next changes one, deletes one (a whiteout) and empties a
// directory (an opaque directory), so lesson 9 has real deletions to look at.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';
import { fail } from '../errors.js';
import { parseReference } from './reference.js';
import {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, MEDIA_TYPES, hostPlatform,
  type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type OciLayoutFile,
} from './oci.js';

export const DEMO_REPOSITORY = 'tsrun-demo';
export const LAYERS_REPOSITORY = 'tsrun-layers';
const BUSYBOX = '/bin/busybox';
const BUILT_AT = new Date('2024-01-01T00:00:00Z');
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'student:x:1000:1000:student:/home/student:/bin/sh',
].join('\n') + '\n';

const GROUP = ['root:x:0:', 'nogroup:x:65534:', 'student:x:1000:'].join('\n') + '\n';

/** Write the demo image's OCI layout into `outDir` (which must not exist, or be empty). */
export async function buildDemoImage(outDir: string, options: { tag?: string } = {}): Promise<void> {
  const base = await busyboxLayer();
  await writeImageLayout(outDir, DEMO_REPOSITORY, options.tag ?? 'latest', [base], { Cmd: ['sh'] });
}

/** Write tsrun-layers: the demo's layer, then one that adds files, then one that changes, deletes and empties. */
export async function buildLayersImage(outDir: string, options: { tag?: string } = {}): Promise<void> {
  const base = await busyboxLayer();
  const added: Layer = {
    tar: await tarOf((entry) => {
      entry.directory('srv');
      entry.directory('srv/notes');
      entry.file('srv/notes/welcome.txt', 'Layer 2 added this file.\n');
      entry.file('srv/notes/draft.txt', 'Layer 2 added this file, and layer 3 deletes it.\n');
      entry.directory('srv/scratch');
      entry.file('srv/scratch/a.txt', 'Layer 2 put this in srv/scratch; layer 3 makes the directory opaque.\n');
      entry.file('srv/scratch/b.txt', 'So you will not see this file either.\n');
      entry.file('etc/motd', 'version 1, from layer 2\n');
    }),
    createdBy: 'add /srv/notes, /srv/scratch and /etc/motd',
  };
  const changed: Layer = {
    tar: await tarOf((entry) => {
      entry.file('etc/motd', 'version 2, from layer 3: the upper copy hides the lower one\n');
      entry.file('srv/notes/.wh.draft.txt', ''); // a whiteout: draft.txt is deleted
      entry.directory('srv/scratch');
      entry.file('srv/scratch/.wh..wh..opq', ''); // opaque: nothing from below shows through
      entry.file('srv/scratch/fresh.txt', 'Only this file is in srv/scratch now.\n');
    }),
    createdBy: 'change /etc/motd, delete /srv/notes/draft.txt, replace /srv/scratch',
  };
  await writeImageLayout(outDir, LAYERS_REPOSITORY, options.tag ?? 'latest', [base, added, changed], { Cmd: ['sh'] });
}

interface Layer {
  tar: Buffer;
  createdBy: string;
}

/** Write an OCI layout holding one image of these layers (bottom first), named `repository:tag`. */
async function writeImageLayout(outDir: string, repository: string, tag: string, layers: Layer[], settings: { Cmd: string[] }): Promise<void> {
  const name = parseReference(`${repository}:${tag}`).canonical; // also checks the tag's grammar
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
    throw fail(`${outDir} is not empty`, 'give a new directory for the image layout');
  }
  // zlib writes no file name and a zero mtime in the gzip header: same input, same bytes.
  const blobs = layers.map((layer) => zlib.gzipSync(layer.tar, { level: 9 }));

  const config: ImageConfig = {
    created: BUILT_AT.toISOString(),
    architecture: hostPlatform().architecture,
    os: 'linux',
    config: { Env: [PATH], Cmd: settings.Cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => digestOf(layer.tar)) },
    history: layers.map((layer) => ({ created: BUILT_AT.toISOString(), created_by: layer.createdBy, comment: 'built by tsrun, without docker' })),
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: describe(MEDIA_TYPES.ociConfig, configJson),
    layers: blobs.map((blob) => describe(MEDIA_TYPES.ociLayerGzip, blob)),
  };
  const manifestJson = Buffer.from(JSON.stringify(manifest));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{
      ...describe(MEDIA_TYPES.ociManifest, manifestJson),
      annotations: { [ANNOTATION_CONTAINERD_NAME]: name, [ANNOTATION_REF_NAME]: tag },
      platform: { architecture: config.architecture, os: config.os },
    }],
  };
  const layout: OciLayoutFile = { imageLayoutVersion: '1.0.0' };

  // Written next to outDir and renamed into place: no half-written layout if anything fails.
  const parent = path.dirname(path.resolve(outDir));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(outDir)}.tmp-`));
  try {
    fs.mkdirSync(path.join(staging, 'blobs', 'sha256'), { recursive: true });
    for (const blob of [...blobs, configJson, manifestJson]) {
      fs.writeFileSync(path.join(staging, 'blobs', 'sha256', digestOf(blob).slice('sha256:'.length)), blob);
    }
    fs.writeFileSync(path.join(staging, 'index.json'), JSON.stringify(index));
    fs.writeFileSync(path.join(staging, 'oci-layout'), JSON.stringify(layout));
    fs.chmodSync(staging, 0o755); // mkdtemp made it 0700
    if (fs.existsSync(outDir)) fs.rmdirSync(outDir);
    fs.renameSync(staging, outDir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

interface TarWriter {
  directory(name: string, mode?: number, owner?: number): void;
  file(name: string, content: Buffer | string, mode?: number): void;
  symlink(name: string, target: string): void;
}

/** A tar whose entries `fill` adds, all owned by root (unless said) and dated BUILT_AT. */
async function tarOf(fill: (entry: TarWriter) => void): Promise<Buffer> {
  const pack = tar.pack();
  const bytes = buffer(pack);
  const common = { mtime: BUILT_AT, uid: 0, gid: 0 };
  fill({
    directory: (name, mode = 0o755, owner = 0) => pack.entry({ ...common, name: `${name}/`, type: 'directory', mode, uid: owner, gid: owner }),
    file: (name, content, mode = 0o644) => pack.entry({ ...common, name, type: 'file', mode }, content),
    symlink: (name, target) => pack.entry({ ...common, name, type: 'symlink', linkname: target, mode: 0o777 }),
  });
  pack.finalize();
  return bytes;
}

/** The base layer: busybox, one symlink per applet, the files a shell session expects. */
async function busyboxLayer(): Promise<Layer> {
  const busybox = readStaticBusybox();
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n').filter((applet) => /^[\w.[-]+$/.test(applet) && applet !== 'busybox');
  const version = execFileSync(BUSYBOX, { encoding: 'utf8' }).split('\n')[0]!.split(' multi-call')[0]!;
  const layerTar = await tarOf((entry) => {
    entry.directory('bin');
    entry.file('bin/busybox', busybox, 0o755);
    for (const applet of applets) entry.symlink(`bin/${applet}`, 'busybox');
    entry.directory('dev');
    entry.directory('etc');
    entry.file('etc/group', GROUP);
    entry.file('etc/passwd', PASSWD);
    entry.directory('home');
    entry.directory('home/student', 0o755, 1000);
    entry.directory('proc');
    entry.directory('root', 0o700);
    entry.directory('sys');
    entry.directory('tmp', 0o1777);
  });
  return { tar: layerTar, createdBy: `tsrun make-demo-image: ${version} and ${applets.length} applet links` };
}

/** Only a statically linked busybox runs in an image with no C library in it. */
function readStaticBusybox(): Buffer {
  if (!fs.existsSync(BUSYBOX)) {
    throw fail(`${BUSYBOX} not found`, 'install it with `apt-get install busybox-static`');
  }
  const elf = fs.readFileSync(BUSYBOX);
  if (hasInterpreter(elf)) {
    throw fail(`${BUSYBOX} is dynamically linked, so it cannot run in an image without libc`, 'install the static one with `apt-get install busybox-static`');
  }
  return elf;
}

/** Does the ELF file name a program interpreter (ld.so), i.e. is it dynamically linked?
 *  The program headers say: one of type PT_INTERP means yes. */
function hasInterpreter(elf: Buffer): boolean {
  const PT_INTERP = 3;
  if (elf.subarray(0, 4).toString('latin1') !== '\x7fELF') throw fail(`${BUSYBOX} is not an ELF executable`, 'install busybox-static');
  const is64 = elf[4] === 2;
  const little = elf[5] === 1;
  const u16 = (at: number) => (little ? elf.readUInt16LE(at) : elf.readUInt16BE(at));
  const u32 = (at: number) => (little ? elf.readUInt32LE(at) : elf.readUInt32BE(at));
  const headersAt = is64 ? Number(little ? elf.readBigUInt64LE(0x20) : elf.readBigUInt64BE(0x20)) : u32(0x1c);
  const headerSize = u16(is64 ? 0x36 : 0x2a);
  const headerCount = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < headerCount; i++) {
    if (u32(headersAt + i * headerSize) === PT_INTERP) return true;
  }
  return false;
}

function digestOf(bytes: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

function describe(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

// tsrun system prune [-f]: remove what no container needs, as `docker system prune` does.
// tsrun system df: what takes room. tsrun system check [--repair]: is the store whole?
import type { CommandModule } from 'yargs';

interface SystemArgs { root?: string; action: string; force: boolean; repair: boolean }

const WARNING = `WARNING! This will remove:
  - all stopped containers
  - all networks not used by at least one container
  - all dangling images
  - the default bridge tsrun0 and tsrun's firewall rules, if no container runs
`;

export const systemCommand: CommandModule<object, SystemArgs> = {
  command: 'system <action>',
  describe: 'Manage tsrun: df shows disk usage; prune removes stopped containers, unused networks, dangling images and, if idle, the default bridge; check verifies the store',
  builder: (yargs) => yargs
    .positional('action', { choices: ['prune', 'df', 'check'] as const, describe: 'What to do' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' })
    .option('repair', { type: 'boolean', default: false, describe: 'check: remove what cannot be trusted (damaged blobs, leftovers of interrupted work)' }) as never,
  handler: async (argv) => {
    if (argv.repair && argv.action !== 'check') {
      const { fail } = await import('../../errors.js');
      throw fail('--repair goes with `tsrun system check`', 'run `tsrun system check --repair`');
    }
    if (argv.action === 'check') return storeCheck(argv);
    if (argv.action === 'df') return diskUsage(argv);
    const { runtimeFor } = await import('../runtime.js');
    const { networkHost } = await import('../../net/bridges.js');
    const { systemPrune } = await import('../../containers/prune.js');
    const runtime = runtimeFor(argv);
    if (!argv.force && !(await confirmed())) return;
    const report = await systemPrune(runtime, networkHost(runtime.paths));
    const section = (title: string, lines: string[]) => {
      if (lines.length > 0) process.stdout.write(`${title}:\n${lines.join('\n')}\n\n`);
    };
    section('Deleted Containers', report.containers);
    section('Deleted Networks', report.networks);
    section('Deleted Images', report.images.flatMap((image) => [...image.untagged.map((name) => `untagged: ${name}`), ...image.deleted.map((id) => `deleted: ${id}`)]));
    if (report.bridgeRemoved) process.stdout.write('Removed the default bridge tsrun0 and tsrun\'s firewall rules\n');
  },
};

/** Docker's question, answered on stdin; anything but y or yes (or no answer at all) is no. */
async function confirmed(): Promise<boolean> {
  process.stderr.write(`${WARNING}\nAre you sure you want to continue? [y/N] `);
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(''));
  });
  lines.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** `tsrun system check [--repair]`: one line for each problem (after --repair: what it mended, then what is left), exit 1 if any. */
async function storeCheck(argv: SystemArgs): Promise<void> {
  const { checkStore } = await import('../../store/check.js');
  const { runtimeFor } = await import('../runtime.js');
  const runtime = runtimeFor(argv);
  const { problems, repaired, counts } = await checkStore(runtime.sys, runtime.paths, { repair: argv.repair });
  const lines = [
    ...repaired.map((problem) => `repaired: ${problem.text}`),
    ...problems.map((problem) => `${problem.text} — ${problem.hint}`),
  ];
  if (problems.length === 0) lines.push(`store OK: ${counts.images} images, ${counts.layers} layers, ${counts.blobs} blobs, ${counts.containers} containers`);
  else process.exitCode = 1;
  process.stdout.write(lines.join('\n') + '\n');
}

/** `tsrun system df`: what images, containers' rw layers and volumes take on disk, and what no container needs. */
async function diskUsage(argv: SystemArgs): Promise<void> {
  const path = await import('node:path');
  const { containerDir } = await import('../../store/paths.js');
  const { directorySize: sizeOf } = await import('../../store/disk-usage.js');
  const { listImages } = await import('../../store/images.js');
  const { reconcileAll } = await import('../../containers/reconcile.js');
  const { runtimeFor } = await import('../runtime.js');
  const { isUp } = await import('../../container.js');
  const { listVolumes, containersUsingVolume, volumeDataDir } = await import('../../volumes/store.js');
  const { formatTable, humanSize } = await import('../../docker/format.js');
  const runtime = runtimeFor(argv);
  const paths = runtime.paths;

  const containers = await reconcileAll(runtime);
  const images = listImages(paths);
  const usedImages = new Set(containers.map((container) => container.image.id));
  // Layers shared by several images are on disk once.
  const layerSizes = new Map(images.flatMap((image) => image.layers.map((layer) => [layer.diffId, layer.unpackedSize] as const)));
  const usedLayers = new Set(images.filter((image) => usedImages.has(image.id)).flatMap((image) => image.layers.map((layer) => layer.diffId)));
  const imagesSize = [...layerSizes.values()].reduce((a, b) => a + b, 0);
  const imagesReclaimable = [...layerSizes].filter(([diffId]) => !usedLayers.has(diffId)).reduce((a, [, size]) => a + size, 0);

  const upper = containers.map((container) => ({ up: isUp(container.state), size: sizeOf(path.join(containerDir(paths, container.id), 'upper')) }));
  const volumes = listVolumes(paths).map((volume) => ({ used: containersUsingVolume(paths, volume.Name).length > 0, size: sizeOf(volumeDataDir(paths, volume.Name)) }));
  const sum = (items: Array<{ size: number }>) => items.reduce((a, item) => a + item.size, 0);
  const percent = (part: number, whole: number) => (whole === 0 ? '' : ` (${Math.round(part / whole * 100)}%)`);
  process.stdout.write(formatTable(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], [
    ['Images', String(images.length), String(images.filter((image) => usedImages.has(image.id)).length), humanSize(imagesSize), humanSize(imagesReclaimable) + percent(imagesReclaimable, imagesSize)],
    ['Containers', String(containers.length), String(upper.filter((c) => c.up).length), humanSize(sum(upper)), humanSize(sum(upper.filter((c) => !c.up))) + percent(sum(upper.filter((c) => !c.up)), sum(upper))],
    ['Local Volumes', String(volumes.length), String(volumes.filter((v) => v.used).length), humanSize(sum(volumes)), humanSize(sum(volumes.filter((v) => !v.used))) + percent(sum(volumes.filter((v) => !v.used)), sum(volumes))],
  ]));
}

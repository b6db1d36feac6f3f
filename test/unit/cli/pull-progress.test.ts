import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { humanSize, layerLine, pullReporter } from '../../../src/cli/pull-progress.js';
import { pullEventLines, type PullEvent } from '../../../src/registry/progress.js';

const layer = 'a1b2c3d4e5f6';

describe('pull progress as plain lines (off a terminal)', () => {
  it('says what docker pull says, and nothing for byte counts', () => {
    const events: PullEvent[] = [
      { type: 'missing', reference: 'debian:latest' },
      { type: 'start', tagOrDigest: 'latest', repository: 'library/debian' },
      { type: 'layer', layer, status: 'waiting' },
      { type: 'layer', layer: 'b2c3d4e5f6a1', status: 'exists' },
      { type: 'layer', layer, status: 'downloading' },
      { type: 'bytes', layer, received: 10, total: 20 },
      { type: 'layer', layer, status: 'downloaded' },
      { type: 'layer', layer, status: 'complete' },
      { type: 'done', digest: 'sha256:abc', upToDate: false, reference: 'debian:latest' },
      { type: 'done', digest: 'sha256:abc', upToDate: true, reference: 'debian:latest' },
    ];
    expect(events.flatMap(pullEventLines)).toEqual([
      "Unable to find image 'debian:latest' locally",
      'latest: Pulling from library/debian',
      `${layer}: Pulling fs layer`,
      'b2c3d4e5f6a1: Already exists',
      `${layer}: Downloading`,
      `${layer}: Download complete`,
      `${layer}: Pull complete`,
      'Digest: sha256:abc',
      'Status: Downloaded newer image for debian:latest',
      'Digest: sha256:abc',
      'Status: Image is up to date for debian:latest',
    ]);
  });

  it('writes them to a stream that is not a terminal, and nothing when quiet', async () => {
    const written: string[] = [];
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    stream.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    const plain = await pullReporter(stream, false);
    plain.tell({ type: 'layer', layer, status: 'downloading' });
    plain.tell({ type: 'bytes', layer, received: 1, total: 2 });
    plain.stop();
    (await pullReporter(stream, true)).tell({ type: 'layer', layer, status: 'complete' });
    expect(written.join('')).toBe(`${layer}: Downloading\n`);
  });
});

describe('pull progress on a terminal: a line per layer', () => {
  it('draws a Docker-like bar while the layer arrives', () => {
    expect(layerLine({ layer, status: 'downloading', total: 40_100_000 }, 12_300_000))
      .toBe(`${layer}: Downloading [${'='.repeat(14)}>${' '.repeat(35)}] 12.3MB/40.1MB`); // 30.7% of 50 columns
    expect(layerLine({ layer, status: 'downloading', total: 1000 }, 0)).toBe(`${layer}: Downloading [${' '.repeat(50)}] 0B/1kB`);
    expect(layerLine({ layer, status: 'downloading', total: 1000 }, 1000)).toBe(`${layer}: Downloading [${'='.repeat(49)}>] 1kB/1kB`);
    // Before the first bytes, the size is not known yet.
    expect(layerLine({ layer, status: 'downloading' }, 0)).toBe(`${layer}: Downloading`);
  });

  it('shows the other states as words', () => {
    expect(layerLine({ layer, status: 'waiting' }, 0)).toBe(`${layer}: Pulling fs layer`);
    expect(layerLine({ layer, status: 'exists' }, 0)).toBe(`${layer}: Already exists`);
    expect(layerLine({ layer, status: 'downloaded', total: 5 }, 5)).toBe(`${layer}: Extracting`);
    expect(layerLine({ layer, status: 'complete', total: 5 }, 5)).toBe(`${layer}: Pull complete`);
  });

  it('writes sizes as Docker does: decimal units, three significant digits', () => {
    expect([0, 512, 999, 1000, 1234, 12_345_678, 40_100_000, 1_500_000_000].map(humanSize))
      .toEqual(['0B', '512B', '999B', '1kB', '1.23kB', '12.3MB', '40.1MB', '1.5GB']);
  });
});

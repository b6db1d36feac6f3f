// `tsrun history`'s rows (cli/commands/history.ts): entries newest first, the layer each added, and the
// image each made while the store has it.
import { describe, expect, it } from 'vitest';
import { historyRows } from '../../../src/store/history.js';
import type { ImageRecord, LayerRecord } from '../../../src/store/images.js';
import type { HistoryEntry } from '../../../src/image/oci.js';

const layer = (size: number): LayerRecord => ({ diffId: `sha256:${size}`, digest: `sha256:${size}`, mediaType: 'x', size, unpackedSize: size });
function image(id: string, history: HistoryEntry[], layers: LayerRecord[], parent?: string): ImageRecord {
  return { id, repoTags: [], repoDigests: [], created: '', size: 0, layers, parent, config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history } };
}

describe('historyRows', () => {
  it('lists entries newest first, sizes from the layers in order, ids up the parent chain, <missing> past it', () => {
    const pulled = image('sha256:base', [{ created_by: 'base layer' }, { created_by: 'CMD sh', empty_layer: true }], [layer(100)]);
    const copied = image('sha256:copy', [...pulled.config.history!, { created_by: 'COPY a /a' }], [layer(100), layer(7)], 'sha256:base');
    const built = image('sha256:env', [...copied.config.history!, { created_by: 'ENV A=1', empty_layer: true, comment: 'c' }], copied.layers, 'sha256:copy');
    const store = new Map([pulled, copied, built].map((each) => [each.id, each]));
    expect(historyRows(built, (id) => store.get(id))).toEqual([
      { id: 'sha256:env', created: undefined, createdBy: 'ENV A=1', size: 0, comment: 'c' },
      { id: 'sha256:copy', created: undefined, createdBy: 'COPY a /a', size: 7, comment: '' },
      { id: 'sha256:base', created: undefined, createdBy: 'CMD sh', size: 0, comment: '' },
      { id: undefined, created: undefined, createdBy: 'base layer', size: 100, comment: '' },
    ]);
  });
});

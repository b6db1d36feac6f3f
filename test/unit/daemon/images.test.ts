// What the images endpoints send that is theirs alone: a push told as dockerd's progress messages, the lines of a
// load, and the routes of save, load and push beside those of the other image endpoints.
import { describe, expect, it } from 'vitest';
import { pushMessage } from '../../../src/daemon/images.js';
import { ROUTES, match } from '../../../src/daemon/routes.js';
import { loadedLines } from '../../../src/store/load.js';
import type { ImageRecord } from '../../../src/store/images.js';

describe('the daemon\'s images endpoints', () => {
  it('tells a push as dockerd does: the repository, each layer by its short digest, the bytes as numbers the CLI draws, the digest', () => {
    expect(pushMessage({ type: 'start', repository: '127.0.0.1:5000/demo/pushed' })).toEqual({ status: 'The push refers to repository [127.0.0.1:5000/demo/pushed]' });
    expect(pushMessage({ type: 'layer', layer: 'ea3bdf5924f2', status: 'Preparing' })).toEqual({ status: 'Preparing', progressDetail: {}, id: 'ea3bdf5924f2' });
    expect(pushMessage({ type: 'layer', layer: 'ea3bdf5924f2', status: 'Mounted from demo/broken' })).toEqual({ status: 'Mounted from demo/broken', progressDetail: {}, id: 'ea3bdf5924f2' });
    expect(pushMessage({ type: 'bytes', layer: '85f63bac19ce', sent: 33280, total: 400000 }))
      .toEqual({ status: 'Pushing', progressDetail: { current: 33280, total: 400000 }, id: '85f63bac19ce' });
    expect(pushMessage({ type: 'done', tag: '1', digest: `sha256:${'b'.repeat(64)}`, size: 527 })).toEqual({ status: `1: digest: sha256:${'b'.repeat(64)} size: 527` });
  });

  it('says what a load loaded as docker load does: a line a name, familiar, or the id of an image without one', () => {
    const image = (id: string, repoTags: string[]) => ({ id, repoTags }) as ImageRecord;
    expect(loadedLines([
      image('sha256:1', ['docker.io/library/busybox:latest', '127.0.0.1:5000/demo/x:1']),
      image('sha256:2', []),
    ])).toEqual(['Loaded image: busybox:latest', 'Loaded image: 127.0.0.1:5000/demo/x:1', 'Loaded image ID: sha256:2']);
  });

  it('routes save, load and push: the name with its slashes, and /images/get and /images/load that name no image', () => {
    expect(match(ROUTES, 'GET', '/images/get')).toMatchObject({ route: { path: '/images/get' }, params: {} });
    expect(match(ROUTES, 'POST', '/images/load')).toMatchObject({ route: { path: '/images/load' }, params: {} });
    expect(match(ROUTES, 'GET', '/images/127.0.0.1:5000/demo/x:1/get')).toMatchObject({ route: { path: '/images/{name*}/get' }, params: { name: '127.0.0.1:5000/demo/x:1' } });
    expect(match(ROUTES, 'POST', '/images/127.0.0.1:5000/demo/pushed/push')).toMatchObject({ route: { path: '/images/{name*}/push' }, params: { name: '127.0.0.1:5000/demo/pushed' } });
    expect(match(ROUTES, 'GET', '/images/x/push')).toBeUndefined();
  });
});

// Every integration test, as root, checks that the host is left as it was: no mount, container process,
// veth or user bridge, container cgroup or port publication it made survives it, whether it passed or not (a veth
// once the kernel has had a few seconds to delete it with its namespace; test/helpers/cli.ts's hostSnapshot says
// what is looked at.) Loaded by vitest before each test file.
import { afterEach, beforeEach, expect } from 'vitest';
import { hostSnapshot, linksGone } from './helpers/cli.js';

const integration = (file: string | undefined) => file?.includes('/test/integration/') ?? false;

if (process.getuid?.() === 0) {
  let before: ReturnType<typeof hostSnapshot> | undefined;
  beforeEach(() => {
    before = integration(expect.getState().testPath) ? hostSnapshot() : undefined;
  });
  afterEach(async () => {
    if (!before) return;
    // A released container's veth pairs go with its namespace, deleted by the kernel after tsrun has returned.
    await linksGone(() => hostSnapshot().links.filter((link) => !before!.links.includes(link)));
    const after = hostSnapshot();
    for (const key of Object.keys(before) as Array<keyof typeof before>) {
      expect(after[key].filter((item) => !before![key].includes(item)), `left on the host: ${key}`).toEqual([]);
    }
  });
}

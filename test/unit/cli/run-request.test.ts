// The command line's front door: flags in, one RunRequest out, every mistake refused before anything exists.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runRequest } from '../../../src/cli/run-request.js';
import type { RunArgs } from '../../../src/cli/run-options.js';

/** The flags as yargs hands them over when none is given (containerOptions' defaults). */
const args = (flags: Partial<RunArgs> = {}, command: string[] = []): RunArgs => ({
  image: 'demo', _: ['run', ...command], rm: false, detach: false, interactive: false, tty: false, env: [], 'env-file': [],
  network: 'bridge', 'network-alias': [], label: [], publish: [], 'publish-all': false, volume: [], mount: [], tmpfs: [], 'read-only': false, restart: 'no',
  'log-opt': [], pull: 'missing', privileged: false, 'cap-add': [], 'cap-drop': [], 'security-opt': [], device: [], ulimit: [],
  step: false, 'no-traceparent': false, ...flags,
});

describe('runRequest', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-request-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses every flag into plain data: no stage sees a flag', async () => {
    const request = await runRequest(args({
      name: 'web', rm: true, publish: ['127.0.0.1:8080:80/udp'], volume: ['cache:/data:ro'], tmpfs: ['/scratch'],
      'log-opt': ['max-size=1m'], memory: '64m', 'cap-add': ['net_admin'], entrypoint: '', label: ['team=cap', 'a=b=c', 'bare'],
    }, ['echo', 'hi']));
    expect(request).toMatchObject({
      image: 'demo', name: 'web', labels: { team: 'cap', a: 'b=c', bare: '' }, autoRemove: true, command: ['echo', 'hi'], entrypoint: [],
      ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }],
      mounts: [{ type: 'volume', source: 'cache', target: '/data', readOnly: true }, { type: 'tmpfs', target: '/scratch' }],
      restart: { name: 'no', maximumRetryCount: 0 }, logMaxSize: 1024 * 1024, resources: { memory: 64 * 1024 * 1024 },
      security: { capAdd: ['CAP_NET_ADMIN'] },
    });
    expect(JSON.parse(JSON.stringify(request))).toEqual(request); // plain data: a daemon could send it over the wire
  });

  it('reads --env-file, then -e, in order; a bare KEY takes tsrun\'s own value, or is left out', async () => {
    const envFile = path.join(dir, 'env');
    fs.writeFileSync(envFile, '# a comment\nFROM_FILE=1\nOVERRIDE=file\n\n');
    process.env.TSRUN_TEST_BARE = 'from-host';
    try {
      const request = await runRequest(args({ 'env-file': [envFile], env: ['OVERRIDE=flag', 'TSRUN_TEST_BARE', 'TSRUN_TEST_UNSET'] }));
      expect(request.env).toEqual(['FROM_FILE=1', 'OVERRIDE=file', 'OVERRIDE=flag', 'TSRUN_TEST_BARE=from-host']);
    } finally {
      delete process.env.TSRUN_TEST_BARE;
    }
    await expect(runRequest(args({ 'env-file': [path.join(dir, 'missing')] }))).rejects.toThrow(/cannot read env file .*ENOENT/);
  });

  it('takes --network-alias (and --net-alias) for a user network, each time it is given', async () => {
    expect(await runRequest(args({ network: 'lab', 'network-alias': ['db', 'primary'] }))).toMatchObject({ network: 'lab', aliases: ['db', 'primary'] });
    const { parsePlainRun } = await import('../../../src/cli/plain-run.js');
    expect(parsePlainRun(['run', '--network', 'lab', '--net-alias', 'db', '--network-alias', 'cache', 'demo'])).toMatchObject({ 'network-alias': ['db', 'cache'] });
  });

  it('refuses a variable with no name, without repeating its value (a trace records errors)', async () => {
    const refused = runRequest(args({ env: ['=hunter2'] }));
    await expect(refused).rejects.toThrow(/invalid environment variable/);
    await expect(refused).rejects.not.toThrow(/hunter2/);
  });

  it.each([
    [{ name: '-bad' }, /invalid container name "-bad"/],
    [{ workdir: 'tmp' }, /the working directory 'tmp' is invalid, it needs to be an absolute path/],
    [{ restart: 'always', rm: true }, /conflicting options: --restart and --rm/],
    [{ restart: 'sometimes' }, /invalid restart policy "sometimes"/],
    [{ restart: 'always:3' }, /invalid restart policy "always:3"/],
    [{ publish: ['80'], network: 'none' }, /--network none has no ports to publish/],
    [{ 'publish-all': true, network: 'host' }, /--network host has no ports to publish/],
    [{ volume: ['/data'], tmpfs: ['/data'] }, /duplicate mount point: \/data/],
    [{ 'network-alias': ['db'] }, /^network-scoped alias is supported only for containers in user defined networks$/],
    [{ 'network-alias': ['db'], network: 'host' }, /^network-scoped alias is supported only for containers in user defined networks$/],
    [{ 'log-opt': ['max-file=3'] }, /invalid --log-opt "max-file=3"/],
    [{ pull: 'sometimes' }, /invalid --pull "sometimes"/],
    [{ 'memory-swap': '1g' }, /--memory-swap needs --memory/],
    [{ 'cap-add': ['FLY'] }, /FLY/],
  ] as Array<[Partial<RunArgs>, RegExp]>)('refuses %o', async (flags, message) => {
    await expect(runRequest(args(flags))).rejects.toThrow(message);
  });
});

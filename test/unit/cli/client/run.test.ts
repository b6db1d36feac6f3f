import { describe, expect, it } from 'vitest';
import { createBody } from '../../../../src/cli/client/run.js';
import { parsePlainRun } from '../../../../src/cli/plain-run.js';
import { runRequest } from '../../../../src/cli/run-request.js';
import { createRequest } from '../../../../src/daemon/create-body.js';

const argvOf = (words: string[]) => {
  const at = words.indexOf('demo');
  return parsePlainRun([...words.slice(0, at + 1), '--', ...words.slice(at + 1)])!;
};

describe('createBody', () => {
  // What the daemon makes of the body is what `tsrun run` makes of the flags: the same container either way.
  it.each([
    [['run', '--rm', 'demo', 'echo', 'hi']],
    [['run', '-d', '--name', 'web', '-p', '8080:80', '-p', '127.0.0.1:8443:443/udp', '-e', 'A=1', '-l', 'team=cap', 'demo']],
    [['run', '-i', '--network', 'net1', '--network-alias', 'db', '-v', '/srv:/data:ro', '-v', 'cache:/cache', '-v', '/anon', 'demo', 'cat']],
    [['run', '-d', '-it', '-w', '/tmp', '-u', '1000:1000', '-h', 'box', '--entrypoint', '', '--read-only', '--tmpfs', '/run:size=1m,exec', 'demo', 'sh']],
    [['run', '-d', '--restart', 'on-failure:3', '--stop-signal', 'SIGINT', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '-P', 'demo']],
    [['run', '--privileged', 'demo']],
    [['run', '-d', '--memory', '64m', '--memory-swap', '128m', '--cpus', '1.5', '--cpu-shares', '512', '--pids-limit', '100', '--cpuset-cpus', '0-1', '--log-opt', 'max-size=1m', 'demo']],
  ])('%j reaches the daemon as the request tsrun run makes', async (words) => {
    const argv = argvOf(words);
    const sent = await createRequest(JSON.parse(JSON.stringify(createBody(argv))), argv.name ?? null);
    expect(sent).toEqual({ ...(await runRequest(argv)), pull: 'never' });
  });

  it('refuses a flag it cannot send yet, saying how to run without a daemon', () => {
    expect(() => createBody(argvOf(['run', '--ulimit', 'nofile=1024', 'demo']))).toThrow(/--ulimit does not go through a daemon yet/);
    expect(() => createBody(argvOf(['run', '--mount', 'type=tmpfs,target=/x', 'demo']))).toThrow(/--mount/);
  });

  it('refuses a bad flag with the words tsrun run uses, before anything is sent', () => {
    expect(() => createBody(argvOf(['run', '-p', '80:99999', 'demo']))).toThrow(/invalid publish "80:99999"/);
    expect(() => createBody(argvOf(['run', '-v', 'rel/dir:/x', 'demo']))).toThrow(/invalid volume specification/);
    expect(() => createBody(argvOf(['run', '--memory', 'lots', 'demo']))).toThrow(/--memory/);
    expect(() => createBody(argvOf(['run', '--log-opt', 'max-file=3', 'demo']))).toThrow(/max-file/);
  });
});

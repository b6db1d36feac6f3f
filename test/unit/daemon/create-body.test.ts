// The daemon's front door: a create body the docker CLI sent becomes the RunRequest `tsrun run` makes from the
// same command line. create-bodies.json holds bodies captured from the docker CLI (28.2.2, and 20.10.24 for 09-)
// talking to dockerd (../shared/reference/docker-engine-api/, files named in each entry).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequest } from '../../../src/daemon/create-body.js';
import { runRequest } from '../../../src/cli/run-request.js';
import { parsePlainRun } from '../../../src/cli/plain-run.js';
import { ApiError } from '../../../src/daemon/http.js';
import type { RunRequest } from '../../../src/container.js';

interface Capture { capture: string; command: string; name: string | null; body: Record<string, any> }
const captures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'create-bodies.json'), 'utf8')) as Capture[];
const body = (capture: string) => structuredClone(captures.find((c) => c.capture === capture)!.body);

/** What `tsrun run ARGS` asks for. The daemon never pulls on create (the CLI pulls after a 404), so --pull never. */
async function fromTheCommandLine(args: string[]): Promise<RunRequest> {
  return runRequest(parsePlainRun(['run', '--pull', 'never', ...args])!);
}

/** The order of PortBindings is Go's (sorted keys), not the command line's: compared as a set. */
const portsSorted = (request: RunRequest) => ({ ...request, ports: [...request.ports].sort((a, b) => a.containerPort - b.containerPort) });

describe('createRequest', () => {
  it('makes of each captured body the request tsrun run makes of the same command line', async () => {
    const cases: Array<[string, string[]]> = [
      ['08-run-rm-echo.txt', ['--rm', 'busybox:local', 'echo', 'hi']],
      ['09-run-rm-echo-cli20.txt', ['--rm', 'busybox:local', 'echo', 'hi']], // CLI 20: null lists, no "default" endpoint
      // After "--", the container's own words.
      ['45-create.txt', ['--name', 'cap-created', '-l', 'team=cap', '-e', 'FOO=bar', '-w', '/tmp', '--entrypoint', '/bin/sh', '-u', '0', '-h', 'myhost',
        '--restart', 'on-failure:2', '--memory', '64m', 'busybox:local', '--', '-c', 'echo created']],
      ['16-run-d-ports-volumes.txt', ['-d', '--name', 'cap-web', '-p', '8080:80', '-p', '127.0.0.1:8443:443/tcp', '-v', 'capvol:/data',
        '-v', '/tmp/dcap/ctx:/ctx:ro', '-e', 'GREETING=hi', 'busybox:local', '--', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/data']],
      ['89-run-resource-flags.txt', ['--rm', '--cpus', '0.5', '--pids-limit', '64', '--memory', '32m', '--cap-add', 'NET_ADMIN', '--read-only', 'busybox:local', 'true']],
    ];
    for (const [capture, args] of cases) {
      const { name } = captures.find((c) => c.capture === capture)!;
      const request = await createRequest(body(capture), name);
      expect(portsSorted(request), capture).toEqual(portsSorted(await fromTheCommandLine(args)));
    }
  });

  it('takes --network-alias from the network\'s endpoint, and refuses it on the default bridge as docker does', async () => {
    const aliased = body('08-run-rm-echo.txt');
    aliased.HostConfig.NetworkMode = 'lab';
    aliased.NetworkingConfig.EndpointsConfig = { lab: { Aliases: ['db', 'primary'] } };
    const request = await createRequest(aliased, null);
    expect(request).toMatchObject({ network: 'lab', aliases: ['db', 'primary'] });
    expect(request).toEqual(await fromTheCommandLine(['--rm', '--network', 'lab', '--network-alias', 'db', '--net-alias', 'primary', 'busybox:local', 'echo', 'hi']));
    aliased.HostConfig.NetworkMode = 'bridge';
    aliased.NetworkingConfig.EndpointsConfig = { bridge: { Aliases: ['db'] } };
    await expect(createRequest(aliased, null)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^network-scoped alias is supported only for containers in user defined networks/) });
  });

  it('keeps the labels -l sent, and refuses one that is not a string', async () => {
    expect((await createRequest(body('45-create.txt'), 'cap-created')).labels).toEqual({ team: 'cap' });
    expect((await createRequest(body('08-run-rm-echo.txt'), null)).labels).toEqual({});
    const numbered = body('08-run-rm-echo.txt');
    numbered.Labels = { team: 7 };
    await expect(createRequest(numbered, null)).rejects.toMatchObject({ status: 400, message: 'Labels.team must be a string, not a number' });
  });

  it('reads the fields the CLI fills for other flags as their flags are read', async () => {
    const many = body('08-run-rm-echo.txt');
    Object.assign(many, { Volumes: { '/anonymous': {} }, StopSignal: 'SIGINT' });
    Object.assign(many.HostConfig, {
      Binds: ['/srv:/srv:ro'], Tmpfs: { '/scratch': 'size=1m' }, PublishAllPorts: true, MemorySwap: -1, Memory: 1 << 26,
      Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 4096, Mode: 0o1770 } }],
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], SecurityOpt: ['no-new-privileges'], MaskedPaths: [], ReadonlyPaths: [],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, CapDrop: ['ALL'],
    });
    const request = await createRequest(many, 'many');
    expect(request).toEqual(await fromTheCommandLine(['--rm', '--name', 'many', '-v', '/srv:/srv:ro', '-v', '/anonymous',
      '--mount', 'type=tmpfs,target=/t,tmpfs-size=4096,tmpfs-mode=1770', '--tmpfs', '/scratch:size=1m', '-P', '--memory', '64m',
      '--memory-swap', '-1', '--ulimit', 'nofile=1024:2048', '--security-opt', 'no-new-privileges', '--security-opt', 'systempaths=unconfined',
      '--log-opt', 'max-size=1m', '--cap-drop', 'ALL', '--stop-signal', 'SIGINT', 'busybox:local', 'echo', 'hi']));
  });

  it('keeps -i\'s StdinOnce: set by docker run -i (12-run-i-stdin.txt), not by docker run -d -i', async () => {
    const interactive = body('08-run-rm-echo.txt');
    Object.assign(interactive, { AttachStdin: true, OpenStdin: true, StdinOnce: true, Cmd: ['sh'] });
    expect((await createRequest(interactive, null))).toEqual(await fromTheCommandLine(['-i', '--rm', 'busybox:local', 'sh']));
    expect((await createRequest(interactive, null))).toMatchObject({ interactive: true, stdinOnce: true });
    Object.assign(interactive, { AttachStdin: false, AttachStdout: false, AttachStderr: false, StdinOnce: false });
    expect((await createRequest(interactive, null))).toEqual(await fromTheCommandLine(['-d', '-i', '--rm', 'busybox:local', 'sh']));
    expect((await createRequest(interactive, null))).toMatchObject({ interactive: true, stdinOnce: false });
  });

  it('gives -t a terminal, as the command line\'s -d -t does', async () => {
    const terminal = body('08-run-rm-echo.txt');
    Object.assign(terminal, { Tty: true, AttachStdout: false, AttachStderr: false, Cmd: ['sh'] });
    expect(await createRequest(terminal, null)).toEqual(await fromTheCommandLine(['-d', '-t', '--rm', 'busybox:local', 'sh']));
  });

  it('refuses a bad body with a 400 that says what is wrong, repeating no value that may be a secret', async () => {
    const refused = async (edit: (b: Record<string, any>) => void, name: string | null, message: string | RegExp) => {
      const changed = body('08-run-rm-echo.txt');
      edit(changed);
      const error = await createRequest(changed, name).then(() => undefined, (e: unknown) => e);
      expect(error, String(message)).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).message).toMatch(message);
    };
    await refused(() => {}, 'bad name!', 'Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    await refused((b) => delete b.Image, null, 'Image is missing');
    await refused((b) => { b.HostConfig.Memory = '64m'; }, null, 'HostConfig.Memory must be a whole number, not a string');
    await refused((b) => { b.Cmd = 5; }, null, 'Cmd must be a list of strings, not a number');
    await refused((b) => { b.Env = ['TOKEN=secret-value', 5]; }, null, /^Env must be a list of strings, not a list$/);
    await refused((b) => { b.Env = ['=secret-value']; }, null, /^invalid environment variable: a value with no name before its "="/);
    await refused((b) => { b.HostConfig.Binds = ['not/a/name:/x']; }, null, /invalid volume specification "not\/a\/name:\/x"/);
    await refused((b) => { b.HostConfig.RestartPolicy = { Name: 'sometimes' }; }, null, /invalid restart policy "sometimes"/);
    await refused((b) => { b.HostConfig.RestartPolicy = { Name: 'always' }; }, null, /conflicting options: --restart and --rm/);
    await refused((b) => { b.HostConfig.PortBindings = { '80/tcp': [{ HostIp: '::', HostPort: '8080' }] }; }, null, /IPv4 only/);
    await refused((b) => { b.HostConfig.Dns = ['192.0.2.1']; b.HostConfig.ShmSize = 1; }, null, 'tsrun does not support HostConfig.Dns, HostConfig.ShmSize yet');
    await refused((b) => { b.HostConfig.NetworkMode = 'container:other'; }, null, /another container's network/);
    await refused((b) => { b.HostConfig.LogConfig = { Type: 'syslog' }; }, null, 'tsrun logs with json-file only, not syslog');
    await refused((b) => { b.HostConfig.CapAdd = ['NO_SUCH_CAP']; }, null, /unknown capability "NO_SUCH_CAP"/);
    await refused((b) => { b.NetworkingConfig.EndpointsConfig = { other: {} }; }, null, /to one network, bridge, not also to other/);
    await expect(createRequest([], null)).rejects.toMatchObject({ status: 400, message: 'the body must be a JSON object' });
  });
});

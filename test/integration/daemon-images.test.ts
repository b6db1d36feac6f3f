// Images in and out of `tsrun daemon` with the real docker CLI, as root: `docker save` and `docker load` (a
// docker-archive through the connection, both ways), and `docker push` to a registry on loopback, anonymous and
// after `docker login`. The daemon on a private socket with a private store, as in daemon.test.ts.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, tsrun } from '../helpers/cli.js';
import { DOCKER, dockerReady, exitCommands, request, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort, startRegistry } from '../helpers/registry.js';

describe.skipIf(!dockerReady)('tsrun daemon: docker save, load and push (as root)', () => {
  let testDaemon: TestDaemon;
  let root: string;
  const docker = (args: string[], input?: string, env: Record<string, string> = {}) => testDaemon.docker(args, input, env);
  /** The CLI with a file as its stdin or stdout: an archive is bytes, not text. */
  const dockerWithFiles = (args: string[], files: { stdin?: string; stdout?: string }) => {
    const stdin = files.stdin === undefined ? 'ignore' : fs.openSync(files.stdin, 'r');
    const stdout = files.stdout === undefined ? 'pipe' : fs.openSync(files.stdout, 'w');
    try {
      const result = spawnSync(DOCKER, ['-H', `unix://${testDaemon.socket}`, ...args], {
        encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', env: testDaemon.dockerEnv(), stdio: [stdin, stdout, 'pipe'],
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    } finally {
      if (typeof stdin === 'number') fs.closeSync(stdin);
      if (typeof stdout === 'number') fs.closeSync(stdout);
    }
  };
  const imageId = (name: string) => docker(['image', 'inspect', '-f', '{{.Id}}', name]).stdout.trim();
  /** The image events since `since`, as `docker events` tells them. */
  const imageEvents = (since: string, action: string) => docker(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1),
    '--filter', 'type=image', '--filter', `event=${action}`, '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']).stdout;

  beforeAll(async () => {
    testDaemon = await startTestDaemon('images');
    ({ root } = testDaemon);
  });
  afterEach(async () => {
    await eventually(() => exitCommands().length === 0);
  });
  afterAll(() => testDaemon.stop());

  it('saves with docker save (-o, and to stdout) and loads with docker load (-i, stdin, -q): an image removed comes back and runs', () => {
    const archive = path.join(testDaemon.dir, 'saved.tar');
    const piped = path.join(testDaemon.dir, 'piped.tar');
    const since = (Date.now() / 1000).toFixed(3);
    try {
      // An image of its own, with a file to find after the round trip.
      expect(docker(['run', '--name', 'save-source', 'tsrun-demo', 'sh', '-c', 'echo kept > /marker']).status).toBe(0);
      const id = tsrun(root, ['commit', 'save-source', 'saved:1']).stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(docker(['rm', 'save-source']).status).toBe(0);

      expect(docker(['save', '-o', archive, 'saved:1'])).toEqual({ status: 0, stdout: '', stderr: '' });
      testDaemon.expectLogged(/GET \/v1\.41\/images\/get\?names=saved%3A1 200 /);
      expect(dockerWithFiles(['save', 'saved:1'], { stdout: piped })).toMatchObject({ status: 0, stderr: '' });
      // The same archive either way: what tsrun save writes, entries dated 1970, so byte for byte.
      expect(fs.readFileSync(piped).equals(fs.readFileSync(archive))).toBe(true);
      const listing = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      expect(listing).toContain('manifest.json');
      expect(listing).toContain(`${id.slice('sha256:'.length)}.json`);
      const manifest = JSON.parse(spawnSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }).stdout) as { RepoTags: string[] }[];
      expect(manifest.map((entry) => entry.RepoTags)).toEqual([['saved:1']]);

      expect(docker(['rmi', 'saved:1']).stdout).toMatch(new RegExp(`^Untagged: saved:1\nDeleted: ${id}\n`));
      expect(dockerWithFiles(['load', '-i', archive], {})).toEqual({ status: 0, stdout: 'Loaded image: saved:1\n', stderr: '' });
      expect(imageId('saved:1')).toBe(id);
      expect(docker(['run', '--rm', 'saved:1', 'cat', '/marker'])).toMatchObject({ status: 0, stdout: 'kept\n' });

      expect(docker(['rmi', 'saved:1']).status).toBe(0);
      expect(dockerWithFiles(['load', '-q'], { stdin: piped })).toEqual({ status: 0, stdout: 'Loaded image: saved:1\n', stderr: '' });
      testDaemon.expectLogged(/POST \/v1\.41\/images\/load\?quiet=1 200 /);
      expect(imageId('saved:1')).toBe(id);

      // Two names in one archive; and the daemon tells what it saved and loaded.
      expect(docker(['tag', 'saved:1', 'saved:2']).status).toBe(0);
      expect(docker(['save', '-o', archive, 'saved:1', 'saved:2']).status).toBe(0);
      testDaemon.expectLogged(/GET \/v1\.41\/images\/get\?names=saved%3A1&names=saved%3A2 200 /);
      expect(docker(['rmi', 'saved:1', 'saved:2']).status).toBe(0);
      expect(dockerWithFiles(['load', '-i', archive], {}).stdout).toBe('Loaded image: saved:1\nLoaded image: saved:2\n');
      expect(imageEvents(since, 'save')).toMatch(new RegExp(`^(save ${id} ${id}\n){3}$`)); // -o, to stdout, then the archive of two names
      expect(imageEvents(since, 'load')).toBe(`load ${id} ${id}\n`.repeat(3));
    } finally {
      tsrun(root, ['rm', '-f', 'save-source']);
      tsrun(root, ['rmi', 'saved:1', 'saved:2']);
      fs.rmSync(archive, { force: true });
      fs.rmSync(piped, { force: true });
    }
  });

  it('loads an image without a name by its id, and answers a missing image with 404, a damaged archive in the stream, and a client gone mid-archive', async () => {
    const archive = path.join(testDaemon.dir, 'dangling.tar');
    let first = '';
    try {
      // A tag moved to a newer image leaves the older one without a name: saved by its id, it has none in the archive.
      expect(docker(['run', '--name', 'dangling-source', 'tsrun-demo', 'true']).status).toBe(0);
      first = tsrun(root, ['commit', 'dangling-source', 'dangling:1']).stdout.trim();
      tsrun(root, ['commit', 'dangling-source', 'dangling:1']);
      expect(docker(['save', '-o', archive, first]).status).toBe(0);
      expect(docker(['rmi', first]).stdout).toMatch(new RegExp(`^Deleted: ${first}\n`));
      expect(dockerWithFiles(['load', '-i', archive], {})).toEqual({ status: 0, stdout: `Loaded image ID: ${first}\n`, stderr: '' });
      expect(imageId(first)).toBe(first);

      expect(docker(['save', '-o', archive, 'tsrun-demo', 'no-such-image'])).toEqual({
        status: 1, stdout: '', stderr: 'Error response from daemon: No such image: no-such-image:latest\n',
      });
      testDaemon.expectLogged(/GET \/v1\.41\/images\/get\?names=tsrun-demo&names=no-such-image 404 /);
      expect((await request(testDaemon.socket, 'GET', '/v1.41/images/no-such-image/get')).status).toBe(404);

      // dockerd answers 200 whatever the archive, and tells the error in the stream; the CLI prints it and exits 1.
      expect(docker(['load'], 'this is not a tar archive\n')).toEqual({
        status: 1, stdout: '', stderr: expect.stringMatching(/^the archive sent is neither a docker-archive nor an OCI image layout — make one with `docker save -o FILE IMAGE`/),
      });
      const answer = await request(testDaemon.socket, 'POST', '/v1.41/images/load?quiet=1', 'not a tar archive either');
      expect(answer).toMatchObject({ status: 200, type: 'application/json' });
      expect(JSON.parse(answer.body)).toEqual({ errorDetail: { message: expect.stringContaining('neither a docker-archive') }, error: expect.stringContaining('neither a docker-archive') });
      // A tar that is no image: nothing is stored, and the daemon goes on serving.
      const notAnImage = path.join(testDaemon.dir, 'not-an-image.tar');
      fs.writeFileSync(path.join(testDaemon.dir, 'hello.txt'), 'hello\n');
      spawnSync('tar', ['-cf', notAnImage, '-C', testDaemon.dir, 'hello.txt']);
      expect(dockerWithFiles(['load', '-i', notAnImage], {})).toMatchObject({ status: 1, stderr: expect.stringContaining('neither a docker-archive nor an OCI image layout') });
      expect(docker(['images', '-q']).status).toBe(0);

      // A client that goes away in the middle of an archive: the load ends, and its staging directory goes with it.
      const client = net.connect(testDaemon.socket);
      await new Promise((resolve) => client.once('connect', resolve));
      client.write('POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n');
      client.write(fs.readFileSync(archive).subarray(0, 64 * 1024));
      const staging = () => fs.readdirSync(path.join(root, 'tmp')).filter((entry) => entry.startsWith('load-'));
      await eventually(() => staging().length === 1);
      client.destroy();
      await eventually(() => staging().length === 0);
      expect(docker(['images', '-q']).status).toBe(0);
    } finally {
      tsrun(root, ['rm', '-f', 'dangling-source']);
      tsrun(root, ['rmi', 'dangling:1', ...(first ? [first] : [])]);
      fs.rmSync(archive, { force: true });
      fs.rmSync(path.join(testDaemon.dir, 'not-an-image.tar'), { force: true });
      fs.rmSync(path.join(testDaemon.dir, 'hello.txt'), { force: true });
    }
  });

  it('pushes with docker push to a registry on loopback: the progress, the digest, the image pulled back after rmi, 404 and an unreachable registry', async () => {
    const registry = await startRegistry();
    const name = `${registry.host}/demo/pushed`;
    const unreachable = `127.0.0.1:${await freePort()}/demo/nowhere:1`;
    const since = (Date.now() / 1000).toFixed(3);
    try {
      const id = imageId('tsrun-demo');
      expect(docker(['tag', 'tsrun-demo', `${name}:1`]).status).toBe(0);
      const pushed = docker(['push', `${name}:1`]);
      expect(pushed).toMatchObject({ status: 0, stderr: '' });
      expect(pushed.stdout).toMatch(new RegExp(`^The push refers to repository \\[${name}\\]\n(\\w{12}: Preparing\n)+(\\w{12}: Pushed\n)+1: digest: sha256:\\w{64} size: \\d+\n$`));
      testDaemon.expectLogged(new RegExp(`POST /v1\\.41/images/${name}/push\\?tag=1 200 `));
      const digest = /digest: (sha256:\w{64})/.exec(pushed.stdout)![1]!;
      expect(docker(['push', `${name}:1`]).stdout).toMatch(/^\w{12}: Layer already exists$/m);
      expect(imageEvents(since, 'push')).toBe(`push ${name}:1 ${name}\n`.repeat(2));

      // Back from the registry: the same image, by the digest the push printed.
      expect(docker(['rmi', `${name}:1`]).status).toBe(0);
      expect(docker(['pull', `${name}:1`])).toMatchObject({ status: 0, stdout: expect.stringContaining(`Digest: ${digest}`) });
      expect(imageId(`${name}:1`)).toBe(id);

      // No such image: 404 before any progress; a registry nobody listens on: the error ends the stream.
      expect(docker(['push', `${name}:no-such-tag`])).toEqual({
        status: 1, stdout: '', stderr: `Error response from daemon: An image does not exist locally with the tag: ${name}\n`,
      });
      expect(docker(['tag', 'tsrun-demo', unreachable]).status).toBe(0);
      const refused = docker(['push', unreachable]);
      expect(refused).toMatchObject({ status: 1, stderr: expect.stringContaining(`cannot reach registry ${unreachable.split('/')[0]}: connection refused`) });
      expect(refused.stdout).toMatch(/^The push refers to repository \[127\.0\.0\.1:\d+\/demo\/nowhere\]\n/);
    } finally {
      tsrun(root, ['rmi', `${name}:1`, unreachable]);
      await registry.stop();
    }
  });

  it('pushes with the credentials docker login gave the CLI, and tells a refusal in the stream', async () => {
    const registry = await startRegistry({ htpasswd: { username: 'capuser', password: 'secret' } });
    const name = `${registry.host}/private/pushed:1`;
    try {
      expect(docker(['tag', 'tsrun-demo', name]).status).toBe(0);
      const anonymous = docker(['push', name]);
      expect(anonymous).toMatchObject({ status: 1, stderr: expect.stringContaining(`unauthorized: ${registry.host} wants credentials to push to private/pushed`) });
      expect(anonymous.stdout).toMatch(/^The push refers to repository /);
      expect(docker(['login', '-u', 'capuser', '--password-stdin', registry.host], 'secret\n')).toMatchObject({ status: 0 });
      expect(docker(['push', name])).toMatchObject({ status: 0, stdout: expect.stringMatching(/\n1: digest: sha256:\w{64} size: \d+\n$/) });
      expect(docker(['rmi', name]).status).toBe(0);
      expect(docker(['pull', name])).toMatchObject({ status: 0, stdout: expect.stringContaining(`Status: Downloaded newer image for ${name}`) });
    } finally {
      docker(['logout', registry.host]);
      tsrun(root, ['rmi', name]);
      await registry.stop();
    }
  });
});

// `tsrun daemon` driven by the real docker CLI, as root: the daemon on a private socket with a private store,
// and `docker -H unix://SOCKET …` with a private DOCKER_CONFIG. Nothing here talks to anything but that socket.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TSRUN, tsrun } from '../helpers/cli.js';
import { COMPOSE, DOCKER, dockerReady, exitCommands, request, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { demoLayout, tempDir } from '../helpers/images.js';
import { startRegistry } from '../helpers/registry.js';

describe.skipIf(!dockerReady)('tsrun daemon, driven by the docker CLI (as root)', () => {
  let testDaemon: TestDaemon;
  let root: string;
  let dir: string;
  let socket: string;
  let daemon: ChildProcess;
  const daemonLog = () => testDaemon.log();
  const expectLogged = (pattern: RegExp) => testDaemon.expectLogged(pattern);
  const docker = (args: string[], input?: string, env: Record<string, string> = {}) => testDaemon.docker(args, input, env);

  beforeAll(async () => {
    testDaemon = await startTestDaemon('daemon');
    ({ root, dir, socket, process: daemon } = testDaemon);
  });
  afterEach(async () => {
    await eventually(() => exitCommands().length === 0);
  });
  afterAll(() => testDaemon.stop());

  it('answers docker version with API 1.41 and docker info, on a socket only root and the tsrun group may use', () => {
    expect(docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Platform.Name}}'])).toEqual({ status: 0, stdout: '1.41 tsrun\n', stderr: '' });
    expect(fs.statSync(socket).mode & 0o777).toBe(0o660);
    expect(docker(['info', '--format', '{{.OSType}} {{.Swarm.LocalNodeState}} {{.LiveRestoreEnabled}} {{.DockerRootDir}}'])).toEqual({ status: 0, stdout: `linux inactive true ${root}\n`, stderr: '' });
  });

  it('runs docker run --rm: the output, the exit code, and the container gone when the CLI returns', () => {
    expect(docker(['run', '--rm', 'tsrun-demo', 'echo', 'hi'])).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(docker(['run', '--rm', 'tsrun-demo', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(tsrun(root, ['ps', '-aq']).stdout).toBe('');
    // The calls behind it, in the daemon's log: create, then attach, wait and start, the wait answered last.
    expectLogged(/POST \/v1\.41\/containers\/create 201 .*\nPOST \/v1\.41\/containers\/\w+\/start 204/s);
    expectLogged(/POST \/v1\.41\/containers\/\w+\/attach\?stderr=1&stdout=1&stream=1 101 /);
    expectLogged(/POST \/v1\.41\/containers\/\w+\/wait\?condition=removed 200 /);
  });

  it('gives docker run -t a terminal: -it through the CLI\'s own (script(1) gives it one), and -d -t read back with docker logs', () => {
    const cli = `${DOCKER} -H unix://${socket}`;
    const ran = spawnSync('script', ['-eqc', `${cli} run --rm -it tsrun-demo sh -c 'tty; exit 5'`, '/dev/null'], {
      encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    });
    expect(ran.status).toBe(5);
    expect(ran.stdout).toMatch(/\/dev\/pts\/0\r\n/);
    expect(docker(['run', '-d', '-t', '--name', 'tty-box', 'tsrun-demo', 'sh', '-c', 'echo on a terminal; sleep 30']).status).toBe(0);
    expect(docker(['inspect', '-f', '{{.Config.Tty}}', 'tty-box']).stdout).toBe('true\n');
    // The monitor holds the terminal: a resize reaches it through the console FIFO.
    const resized = spawnSync(process.execPath, ['-e', `
      require('http').request({ socketPath: ${JSON.stringify(socket)}, method: 'POST', path: '/v1.41/containers/tty-box/resize?h=33&w=101' },
        (res) => { console.log(res.statusCode); res.resume(); }).end();
    `], { encoding: 'utf8' });
    expect(resized.stdout).toBe('200\n');
    expect(docker(['exec', 'tty-box', 'sh', '-c', 'stty size < /proc/1/fd/0'])).toMatchObject({ status: 0, stdout: '33 101\n' });
    // A terminal's output is one stream, with its CR LF.
    expect(docker(['logs', 'tty-box'])).toMatchObject({ status: 0, stdout: 'on a terminal\r\n' });
    expect(docker(['rm', '-f', 'tty-box']).status).toBe(0);
  });

  it('passes piped input to docker run -i, and its end: the container reads to the end of it and exits (StdinOnce)', () => {
    expect(docker(['run', '-i', '--rm', 'tsrun-demo', 'sh'], 'echo from-stdin\nexit 2\n')).toEqual({ status: 2, stdout: 'from-stdin\n', stderr: '' });
    expect(docker(['run', '-i', '--rm', 'tsrun-demo', 'cat'], 'hi\nthere\n')).toEqual({ status: 0, stdout: 'hi\nthere\n', stderr: '' });
    expect(docker(['run', '-i', '--rm', 'tsrun-demo', 'wc', '-c'], '')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\s*0\n$/) });
    // docker start -ai of a container made with -i: the same, run after run.
    const id = docker(['create', '-i', '--name', 'reader', 'tsrun-demo', 'cat']).stdout.trim();
    try {
      expect(docker(['start', '-ai', 'reader'], 'first\n')).toEqual({ status: 0, stdout: 'first\n', stderr: '' });
      expect(docker(['start', '-ai', 'reader'], 'second\n')).toEqual({ status: 0, stdout: 'second\n', stderr: '' });
    } finally {
      docker(['rm', '-f', id]);
    }
    // Gone before its input could be written: the daemon finds no reader, and does not wait for one.
    for (let i = 0; i < 3; i++) expect(docker(['run', '-i', '--rm', 'tsrun-demo', 'true'], 'never read\n')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(tsrun(root, ['ps', '-aq']).stdout).toBe('');
  });

  it('exits 127 for a command that is not there and 126 for one that cannot run, with the words docker reads them from', () => {
    const missing = docker(['run', '--rm', 'tsrun-demo', 'no-such-command']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('docker: Error response from daemon: exec: "no-such-command": executable file not found in $PATH');
    const notExecutable = docker(['run', '--rm', 'tsrun-demo', '/etc/passwd']);
    expect(notExecutable.status).toBe(126);
    expect(notExecutable.stderr).toContain('exec: "/etc/passwd": permission denied');
    expect(tsrun(root, ['ps', '-aq']).stdout).toBe('');
  });

  it('answers with Docker\'s errors: no such object, a bad name, a name in use', () => {
    expect(docker(['inspect', 'no-such-thing'])).toMatchObject({ status: 1, stderr: 'Error: No such object: no-such-thing\n' });
    expect(docker(['create', '--name', 'bad name!', 'tsrun-demo'])).toMatchObject({
      status: 1, stderr: 'Error response from daemon: Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n',
    });
    const id = docker(['create', '--name', 'taken', 'tsrun-demo', 'true']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(docker(['create', '--name', 'taken', 'tsrun-demo', 'true']).stderr).toContain(`Conflict. The container name "/taken" is already in use by container "${id}"`);
    expect(docker(['rm', 'taken'])).toEqual({ status: 0, stdout: 'taken\n', stderr: '' });
    expect(docker(['rm', 'taken'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: No such container: taken\n' });
  });

  it('runs docker run -d, and lists, logs, stops, kills and removes the container', async () => {
    const id = docker(['run', '-d', '--name', 'web', 'tsrun-demo', 'sh', '-c', 'echo one; echo two >&2; exec sleep 100']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = docker(['ps']);
    expect(ps.stdout).toMatch(new RegExp(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n${id.slice(0, 12)} +tsrun-demo +"sh -c 'echo one; ec…" .+ Up .+ web\n$`));
    await eventually(() => docker(['logs', 'web']).stderr === 'two\n');
    expect(docker(['logs', 'web'])).toEqual({ status: 0, stdout: 'one\n', stderr: 'two\n' });
    expect(docker(['inspect', '-f', '{{.State.Status}} {{.Config.Tty}} {{.Name}}', 'web']).stdout).toBe('running false /web\n');
    expect(docker(['rm', 'web'])).toMatchObject({ status: 1, stderr: expect.stringContaining(`You cannot remove a running container ${id}`) });
    // sleep, the container's PID 1, ignores SIGTERM: SIGKILL after the second -t gives it.
    expect(docker(['stop', '-t', '1', 'web'])).toEqual({ status: 0, stdout: 'web\n', stderr: '' });
    expect(docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^web Exited \(137\) .+ ago\n$/);
    expect(docker(['kill', 'web'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Cannot kill container: web: Container ${id} is not running\n` });
    expect(docker(['start', 'web'])).toEqual({ status: 0, stdout: 'web\n', stderr: '' });
    expect(docker(['kill', 'web'])).toEqual({ status: 0, stdout: 'web\n', stderr: '' });
    expect(docker(['wait', 'web'])).toEqual({ status: 0, stdout: '137\n', stderr: '' });
    expect(docker(['logs', 'web']).stdout).toBe('one\none\n'); // both runs
    expect(docker(['rm', 'web'])).toEqual({ status: 0, stdout: 'web\n', stderr: '' });
    expect(docker(['ps', '-aq']).stdout).toBe('');
  });

  it('restarts, renames, pauses and unpauses a container, with Docker\'s errors', async () => {
    const id = docker(['run', '-d', '--name', 'napper', 'tsrun-demo', 'sh', '-c', 'echo run; exec sleep 100']).stdout.trim();
    const other = docker(['create', '--name', 'other', 'tsrun-demo', 'true']).stdout.trim();
    try {
      expect(docker(['rename', 'napper', 'sleeper'])).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(docker(['inspect', '-f', '{{.Name}}', id]).stdout).toBe('/sleeper\n');
      // The CLI adds a line of its own after the daemon's words.
      expect(docker(['rename', 'napper', 'x'])).toMatchObject({
        status: 1, stderr: 'Error response from daemon: No such container: napper\nError: failed to rename container named napper\n',
      });
      expect(docker(['rename', 'sleeper', 'bad name!'])).toMatchObject({
        status: 1, stderr: 'Error response from daemon: Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\nError: failed to rename container named sleeper\n',
      });
      expect(docker(['rename', 'sleeper', 'other'])).toMatchObject({ status: 1, stderr: expect.stringContaining(`The container name "/other" is already in use by container "${other}"`) });

      // Frozen by its cgroup: the freezer on v1, cgroup.freeze on v2.
      const frozen = () => (fs.existsSync('/sys/fs/cgroup/freezer')
        ? fs.readFileSync(`/sys/fs/cgroup/freezer/tsrun/${id}/freezer.state`, 'utf8').trim() === 'FROZEN'
        : fs.readFileSync(`/sys/fs/cgroup/tsrun/${id}/cgroup.freeze`, 'utf8').trim() === '1');
      expect(docker(['pause', 'sleeper'])).toEqual({ status: 0, stdout: 'sleeper\n', stderr: '' });
      expect(frozen()).toBe(true);
      expect(docker(['ps', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^sleeper Up .+ \(Paused\)\n$/);
      expect(docker(['pause', 'sleeper'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is already paused\n` });
      expect(docker(['exec', 'sleeper', 'true'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is paused, unpause the container before exec\n` });
      expect(docker(['unpause', 'sleeper'])).toEqual({ status: 0, stdout: 'sleeper\n', stderr: '' });
      expect(frozen()).toBe(false);
      expect(docker(['unpause', 'sleeper'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is not paused\n` });

      const pid = () => docker(['inspect', '-f', '{{.State.Pid}}', 'sleeper']).stdout;
      const before = pid();
      expect(docker(['restart', '-t', '1', 'sleeper'])).toEqual({ status: 0, stdout: 'sleeper\n', stderr: '' });
      expect(docker(['inspect', '-f', '{{.State.Status}}', 'sleeper']).stdout).toBe('running\n');
      expect(pid()).not.toBe(before);
      await eventually(() => docker(['logs', 'sleeper']).stdout === 'run\nrun\n');
      // A stopped container is started, and one that is not running cannot be paused.
      expect(docker(['stop', '-t', '1', 'sleeper']).status).toBe(0);
      expect(docker(['pause', 'sleeper'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is not running\n` });
      expect(docker(['restart', 'sleeper'])).toEqual({ status: 0, stdout: 'sleeper\n', stderr: '' });
      expect(docker(['inspect', '-f', '{{.State.Status}}', 'sleeper']).stdout).toBe('running\n');
      expect(docker(['restart', 'no-such-container'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: No such container: no-such-container\n' });
    } finally {
      docker(['rm', '-f', id, other]);
    }
    // A --rm container is restarted, not removed; it goes once it stops for good.
    const passing = docker(['run', '-d', '--rm', '--name', 'passing', 'tsrun-demo', 'sleep', '100']).stdout.trim();
    try {
      expect(docker(['restart', '-t', '1', 'passing'])).toEqual({ status: 0, stdout: 'passing\n', stderr: '' });
      expect(docker(['inspect', '-f', '{{.State.Status}}', 'passing']).stdout).toBe('running\n');
      expect(docker(['stop', '-t', '1', 'passing']).status).toBe(0);
      await eventually(() => docker(['ps', '-aq']).stdout === '');
    } finally {
      docker(['rm', '-f', passing]);
    }
  });

  it('runs docker exec: its output and exit code, -e -w -u, piped input with -i, -d, a command that is not there', async () => {
    const id = docker(['run', '-d', '--name', 'box', 'tsrun-demo', 'sleep', '100']).stdout.trim();
    try {
      expect(docker(['exec', 'box', 'sh', '-c', 'echo from-exec; echo err-exec >&2; exit 4'])).toEqual({ status: 4, stdout: 'from-exec\n', stderr: 'err-exec\n' });
      expectLogged(/POST \/v1\.41\/containers\/box\/exec 201 .*\nPOST \/v1\.41\/exec\/\w{64}\/start 101 .*\nGET \/v1\.41\/exec\/\w{64}\/json 200 /s);
      expect(docker(['exec', '-e', 'A=1', '-w', '/tmp', '-u', '0', 'box', 'sh', '-c', 'echo $A $(pwd) $(id -u)'])).toEqual({ status: 0, stdout: '1 /tmp 0\n', stderr: '' });
      expect(docker(['exec', '-i', 'box', 'cat'], 'piped\ninput\n')).toEqual({ status: 0, stdout: 'piped\ninput\n', stderr: '' });
      expect(docker(['exec', '-d', 'box', 'sh', '-c', 'echo detached > /tmp/marker'])).toEqual({ status: 0, stdout: '', stderr: '' });
      await eventually(() => docker(['exec', 'box', 'cat', '/tmp/marker']).stdout === 'detached\n');
      // Told on the stream, as dockerd tells it; the exit code is the one tsrun exec and docker run give.
      const missing = docker(['exec', 'box', 'no-such-command']);
      expect(missing).toMatchObject({ status: 127, stdout: expect.stringContaining('exec: "no-such-command": executable file not found in $PATH') });
      // Any other failure to start is 126, as dockerd has it.
      expect(docker(['exec', '-u', 'no-such-user', 'box', 'true'])).toMatchObject({ status: 126, stdout: expect.stringContaining('no-such-user') });
      expect(docker(['exec', 'no-such-box', 'true'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: No such container: no-such-box\n' });
      expect(docker(['exec', '-t', 'box', 'sh', '-c', 'exit 4'])).toMatchObject({ status: 4 }); // a terminal now: daemon-more.test.ts

      // Resizes: 200, as dockerd answers for a container or exec without a terminal.
      const made = await request(socket, 'POST', '/v1.41/containers/box/exec', JSON.stringify({ Cmd: ['true'] }));
      expect(made.status).toBe(201);
      const execId = (JSON.parse(made.body) as { Id: string }).Id;
      expect(await request(socket, 'POST', `/v1.41/exec/${execId}/resize?h=30&w=100`)).toMatchObject({ status: 200, body: '' });
      expect(await request(socket, 'POST', '/v1.41/exec/no-such-exec/resize?h=30&w=100')).toEqual({ status: 404, type: 'application/json', body: '{"message":"No such exec instance: no-such-exec"}\n' });
      expect(await request(socket, 'POST', '/v1.41/containers/box/resize?h=30&w=100')).toMatchObject({ status: 200, body: '' });
      expect(await request(socket, 'POST', '/v1.41/containers/box/resize?h=tall&w=100')).toMatchObject({ status: 400, body: '{"message":"invalid value for h: \\"tall\\""}\n' });
      expect(await request(socket, 'GET', `/v1.41/exec/${execId}/json`)).toMatchObject({ status: 200, body: expect.stringContaining('"Running":false,"ExitCode":null') });

      // A client that goes away: the process runs on to its end, and the daemon lets go of its pipes then.
      const daemonFds = () => fs.readdirSync(`/proc/${daemon.pid}/fd`).length;
      const before = daemonFds();
      const cli = spawn(DOCKER, ['-H', `unix://${socket}`, 'exec', 'box', 'sh', '-c', 'echo started; sleep 1; echo done > /tmp/ended'], {
        env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') }, stdio: ['ignore', 'pipe', 'ignore'],
      });
      await new Promise((resolve) => cli.stdout!.once('data', resolve));
      cli.kill('SIGKILL');
      await eventually(() => docker(['exec', 'box', 'cat', '/tmp/ended']).stdout === 'done\n' && daemonFds() === before);

      expect(docker(['stop', '-t', '1', 'box']).status).toBe(0);
      expect(docker(['exec', 'box', 'true'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is not running\n` });
      expect(await request(socket, 'POST', '/v1.41/containers/box/resize?h=30&w=100')).toMatchObject({ status: 409 });
    } finally {
      docker(['rm', '-f', id]);
    }
  });

  it('pulls from a registry on loopback with docker pull, and when docker run needs an image it does not have', async () => {
    const registry = await startRegistry();
    const layouts = tempDir('daemon-layouts');
    try {
      registry.push(await demoLayout(path.join(layouts, 'demo')), 'latest', 'demo:1');
      const pulled = docker(['pull', `${registry.host}/demo:1`]);
      expect(pulled.status).toBe(0);
      expect(pulled.stdout).toMatch(new RegExp(`^1: Pulling from demo\n\\w{12}: (Already exists|Pulling fs layer)\n.*Digest: sha256:\\w{64}\nStatus: Downloaded newer image for ${registry.host}/demo:1\n${registry.host}/demo:1\n$`, 's'));
      expect(docker(['pull', `${registry.host}/demo:1`]).stdout).toContain(`Status: Image is up to date for ${registry.host}/demo:1`);
      // No such tag: a 404 before any progress, which the CLI prints; docker run prints it too, and exits 125.
      expect(docker(['pull', `${registry.host}/demo:no-such-tag`])).toEqual({
        status: 1, stdout: '', stderr: `Error response from daemon: manifest unknown: ${registry.host}/demo has no no-such-tag — check the tag or digest\n`,
      });
      expectLogged(/POST \/v1\.41\/images\/create\?fromImage=[^ ]+&tag=no-such-tag 404 /);
      const runMissing = docker(['run', '--rm', `${registry.host}/demo:no-such-tag`, 'true']);
      expect(runMissing.status).toBe(125);
      expect(runMissing.stderr).toContain(`docker: Error response from daemon: manifest unknown: ${registry.host}/demo has no no-such-tag`);
      // create says 404, the CLI pulls (POST /images/create) and creates again.
      registry.push(path.join(layouts, 'demo'), 'latest', 'demo:2');
      const run = docker(['run', '--rm', `${registry.host}/demo:2`, 'echo', 'pulled, then run']);
      expect(run).toMatchObject({ status: 0, stdout: 'pulled, then run\n' });
      expect(run.stderr).toMatch(new RegExp(`^Unable to find image '${registry.host}/demo:2' locally\n2: Pulling from demo\n`));
    } finally {
      await registry.stop();
      fs.rmSync(layouts, { recursive: true, force: true });
    }
  });

  it('checks docker login with the registry, and pulls with the credentials the CLI then sends in X-Registry-Auth', async () => {
    const registry = await startRegistry({ htpasswd: { username: 'capuser', password: 'secret' } });
    const layouts = tempDir('daemon-auth-layouts');
    const since = (Date.now() / 1000).toFixed(3); // what the earlier tests did is before it
    try {
      registry.push(await demoLayout(path.join(layouts, 'demo')), 'latest', 'private:1');
      expect(docker(['pull', `${registry.host}/private:1`])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^Error response from daemon: .*(401|unauthorized|authentication required)/i) });
      expect(docker(['login', '-u', 'capuser', '--password-stdin', registry.host], 'wrong\n'))
        .toMatchObject({ status: 1, stderr: expect.stringContaining(`Error response from daemon: login to ${registry.host} failed:`) });
      expect(daemonLog()).toMatch(/POST \/v1\.41\/auth 401 /);
      expect(docker(['login', '-u', 'capuser', '--password-stdin', registry.host], 'secret\n')).toMatchObject({ status: 0, stdout: expect.stringContaining('Login Succeeded') });
      expect(docker(['pull', `${registry.host}/private:1`])).toMatchObject({ status: 0, stdout: expect.stringContaining(`Status: Downloaded newer image for ${registry.host}/private:1`) });
      const events = docker(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=pull', '--format', '{{.Actor.ID}} {{.Actor.Attributes.name}}']);
      expect(events.stdout).toBe(`${registry.host}/private:1 ${registry.host}/private\n`);
      expect((await request(socket, 'POST', `/v1.41/images/create?fromImage=${registry.host}/private&tag=1`, undefined, { 'X-Registry-Auth': 'not json' })))
        .toMatchObject({ status: 400, body: expect.stringContaining('X-Registry-Auth is not base64 of a JSON object') });
    } finally {
      docker(['logout', registry.host]);
      tsrun(root, ['rmi', `${registry.host}/private:1`]);
      await registry.stop();
      fs.rmSync(layouts, { recursive: true, force: true });
    }
  });

  it('manages networks: create, ls, inspect, an alias a peer resolves through the network\'s name server, connect, disconnect, rm, prune', () => {
    try {
      const created = docker(['network', 'create', 'apinet']);
      expect(created).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}\n$/), stderr: '' });
      const id = created.stdout.trim();
      expect(docker(['network', 'create', 'apinet'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: network with name apinet already exists\n' });
      expect(docker(['network', 'ls', '--format', '{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}']).stdout).toMatch(new RegExp(`^${id.slice(0, 12)} apinet bridge local\n\\w{12} bridge bridge local\n\\w{12} host host local\n\\w{12} none null local\n$`));
      expect(docker(['network', 'inspect', '-f', '{{.Id}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}}', 'apinet']).stdout).toMatch(new RegExp(`^${id} bridge 10\\.\\d+\\.0\\.0/16\n$`));

      // An untyped inspect finds it after the container's and the image's 404.
      expect(docker(['inspect', '-f', '{{.Name}} {{.Driver}}', 'apinet'])).toEqual({ status: 0, stdout: 'apinet bridge\n', stderr: '' });

      // --network-alias came in the create body's EndpointsConfig; the network's DNS server answers it.
      const web = docker(['run', '-d', '--name', 'api-web', '--network', 'apinet', '--network-alias', 'websvc', 'tsrun-demo', 'sleep', '100']).stdout.trim();
      const address = docker(['network', 'inspect', '-f', `{{(index .Containers "${web}").IPv4Address}}`, 'apinet']).stdout.trim().replace(/\/\d+$/, '');
      expect(address).toMatch(/^10\.\d+\.0\.\d+$/);
      expect(docker(['run', '--rm', '--network', 'apinet', 'tsrun-demo', 'nslookup', 'websvc'])).toMatchObject({ status: 0, stdout: expect.stringContaining(`Address: ${address}\n`) });

      // A running container joins at once, with an alias, and leaves.
      docker(['run', '-d', '--name', 'api-other', 'tsrun-demo', 'sleep', '100']);
      expect(docker(['network', 'connect', '--alias', 'oth', 'apinet', 'api-other'])).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(docker(['exec', 'api-web', 'ping', '-c', '1', '-W', '2', 'oth'])).toMatchObject({ status: 0, stdout: expect.stringContaining('1 packets received') });
      expect(docker(['network', 'connect', 'apinet', 'api-other'])).toMatchObject({ status: 1, stderr: expect.stringContaining('endpoint with name api-other already exists in network apinet') });
      expect(docker(['network', 'connect', 'apinet', 'no-such-box'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: No such container: no-such-box\n' });
      expect(docker(['network', 'connect', 'no-such-net', 'api-other'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: network no-such-net not found\n' });
      expect(docker(['network', 'rm', 'apinet'])).toMatchObject({ status: 1, stderr: expect.stringContaining(`network apinet id ${id} has active endpoints`) });
      expectLogged(/DELETE \/v1\.41\/networks\/apinet 403 /);
      expect(docker(['network', 'disconnect', 'apinet', 'api-other'])).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(docker(['exec', 'api-web', 'nslookup', 'oth']).status).not.toBe(0);
      expect(docker(['network', 'disconnect', 'apinet', 'api-other'])).toMatchObject({ status: 1, stderr: expect.stringContaining('is not connected to the network apinet') });

      // The CLI adds a line of its own after the daemon's words.
      expect(docker(['network', 'rm', 'bridge'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: bridge is a pre-defined network and cannot be removed\nexit status 1\n' });
      expectLogged(/DELETE \/v1\.41\/networks\/bridge 403 /);
      expect(docker(['network', 'inspect', 'no-such-net'])).toMatchObject({ status: 1, stderr: expect.stringContaining('network no-such-net not found') });
      expect(docker(['rm', '-f', 'api-web', 'api-other']).status).toBe(0);
      expect(docker(['network', 'rm', 'apinet'])).toEqual({ status: 0, stdout: 'apinet\n', stderr: '' });

      expect(docker(['network', 'create', '--internal', 'closed'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: tsrun does not support Internal yet\n' });
      expect(docker(['network', 'create', '--subnet', '10.200.0.0/24', 'unused']).status).toBe(0);
      expect(docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'unused']).stdout).toBe('10.200.0.0/24 10.200.0.1\n');
      expect(docker(['network', 'prune', '-f'])).toEqual({ status: 0, stdout: 'Deleted Networks:\nunused\n\n', stderr: '' });
      expect(docker(['network', 'ls', '--format', '{{.Name}}']).stdout).toBe('bridge\nhost\nnone\n');
    } finally {
      tsrun(root, ['rm', '-f', 'api-web', 'api-other']);
      tsrun(root, ['network', 'prune']);
    }
  });

  it('manages volumes: create, ls, inspect, the data a container left kept for the next, rm refused while one names it, prune', () => {
    try {
      expect(docker(['volume', 'create', 'apivol'])).toEqual({ status: 0, stdout: 'apivol\n', stderr: '' });
      expect(docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']).stdout).toBe('local apivol\n');
      expect(docker(['volume', 'inspect', '-f', '{{.Mountpoint}} {{.Scope}}', 'apivol']).stdout).toBe(`${root}/volumes/apivol/_data local\n`);
      expect(docker(['volume', 'inspect', 'no-such-vol'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: get no-such-vol: no such volume\n' });
      expect(docker(['inspect', '-f', '{{.Name}} {{.Driver}}', 'apivol']).stdout).toBe('apivol local\n'); // after the network's 404 too

      expect(docker(['run', '--rm', '-v', 'apivol:/data', 'tsrun-demo', 'sh', '-c', 'echo kept > /data/file']).status).toBe(0);
      const id = docker(['create', '--name', 'vol-user', '-v', 'apivol:/data', 'tsrun-demo', 'cat', '/data/file']).stdout.trim();
      expect(docker(['start', '-a', 'vol-user'])).toEqual({ status: 0, stdout: 'kept\n', stderr: '' });
      expect(docker(['volume', 'rm', 'apivol'])).toMatchObject({ status: 1, stderr: expect.stringContaining(`Error response from daemon: remove apivol: volume is in use - [${id}]`) });
      expectLogged(/DELETE \/v1\.41\/volumes\/apivol 409 /);
      expect(docker(['volume', 'prune', '-f'])).toEqual({ status: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' });
      expect(docker(['rm', 'vol-user']).status).toBe(0);

      expect(docker(['volume', 'create', 'short-lived']).status).toBe(0);
      expect(docker(['volume', 'rm', 'short-lived'])).toEqual({ status: 0, stdout: 'short-lived\n', stderr: '' });
      expect(docker(['volume', 'rm', 'short-lived'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: get short-lived: no such volume\n' });
      // "kept\n": 5 bytes.
      expect(docker(['volume', 'prune', '-f'])).toEqual({ status: 0, stdout: 'Deleted Volumes:\napivol\n\nTotal reclaimed space: 5B\n', stderr: '' });
      expect(docker(['volume', 'ls', '-q']).stdout).toBe('');
    } finally {
      tsrun(root, ['rm', '-f', 'vol-user']);
      tsrun(root, ['volume', 'prune']);
    }
  });

  it('lists, inspects, tags, removes and prunes images and shows their history, with Docker\'s 404 and 409', () => {
    try {
      // An image of its own (the demo image's id is also the one the pull test's images have): a commit of a container.
      expect(docker(['run', '--name', 'img-source', 'tsrun-demo', 'true']).status).toBe(0);
      const id = tsrun(root, ['commit', 'img-source', 'apiimg:1']).stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const short = id.slice('sha256:'.length, 'sha256:'.length + 12);
      expect(docker(['tag', 'apiimg:1', '127.0.0.1:5000/demo/tagged:1'])).toEqual({ status: 0, stdout: '', stderr: '' });
      const rows = docker(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']).stdout.split('\n').filter((row) => row.endsWith(short));
      expect(rows.sort()).toEqual([`127.0.0.1:5000/demo/tagged 1 ${short}`, `apiimg 1 ${short}`]);
      // docker images NAME: a reference filter; only the names it matches are listed.
      expect(docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', '127.0.0.1:5000/demo/*']).stdout).toBe(`127.0.0.1:5000/demo/tagged:1 ${short}\n`);
      expect(docker(['images', '--format', '{{.Repository}}:{{.Tag}}', 'apiimg:1']).stdout).toBe('apiimg:1\n');
      // The name goes into the path as it is, slashes and colon too.
      expect(docker(['image', 'inspect', '-f', '{{.Id}} {{.RepoTags}}', '127.0.0.1:5000/demo/tagged:1']).stdout).toBe(`${id} [apiimg:1 127.0.0.1:5000/demo/tagged:1]\n`);
      // Newest first: the commit, then the demo image's step, made by an image the store has.
      const demo = docker(['image', 'inspect', '-f', '{{.Id}}', 'tsrun-demo']).stdout.trim().slice('sha256:'.length, 'sha256:'.length + 12);
      expect(docker(['history', '--format', '{{.ID}}|{{.CreatedBy}}', 'apiimg:1']).stdout).toMatch(new RegExp(`^${short}\\|.*\n${demo}\\|tsrun make-demo-image: .+\n$`));
      expect(docker(['rmi', '127.0.0.1:5000/demo/tagged:1'])).toEqual({ status: 0, stdout: 'Untagged: 127.0.0.1:5000/demo/tagged:1\n', stderr: '' });
      expect(docker(['rmi', 'no-such-image'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: No such image: no-such-image:latest\n' });
      expect(docker(['tag', 'no-such-image', 'other'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: No such image: no-such-image:latest\n' });

      // A container uses it: by name, refused unless forced; by id, refused even forced while the container runs.
      const user = docker(['run', '-d', '--name', 'img-user', 'apiimg:1', 'sleep', '100']).stdout.trim().slice(0, 12);
      expect(docker(['rmi', 'apiimg:1'])).toEqual({
        status: 1, stdout: '', stderr: expect.stringMatching(`^Error response from daemon: conflict: unable to remove repository reference "apiimg:1" \\(must force\\) - container ${user} is using its referenced image ${short}`),
      });
      expect(docker(['rmi', '-f', id])).toEqual({
        status: 1, stdout: '', stderr: expect.stringMatching(`^Error response from daemon: conflict: unable to delete ${short} \\(cannot be forced\\) - image is being used by running container ${user}`),
      });
      expectLogged(/DELETE \/v1\.41\/images\/sha256:\w{64}\?force=1 409 /);

      // A tag moved to a newer image leaves the older one without a name: dangling, what `image prune` removes.
      const first = tsrun(root, ['commit', 'img-user', 'snap:1']).stdout.trim();
      const second = tsrun(root, ['commit', 'img-user', 'snap:1']).stdout.trim();
      expect(docker(['images', '--filter', 'dangling=true', '--format', '{{.ID}}']).stdout).toBe(`${first.slice(7, 19)}\n`);
      expect(docker(['image', 'prune', '-f']).stdout).toMatch(new RegExp(`^Deleted Images:\ndeleted: ${first}\n.*\nTotal reclaimed space: .+\n$`, 's'));
      expect(docker(['rmi', 'snap:1']).stdout).toMatch(new RegExp(`^Untagged: snap:1\nDeleted: ${second}\n`));
      expect(docker(['rm', '-f', 'img-user']).status).toBe(0);
      expect(docker(['rmi', 'apiimg:1']).stdout).toMatch(new RegExp(`^Untagged: apiimg:1\nDeleted: ${id}\n(Deleted: sha256:\\w{64}\n)+$`));
      expect(docker(['image', 'inspect', 'apiimg:1'])).toMatchObject({ status: 1 });
    } finally {
      tsrun(root, ['rm', '-f', 'img-user', 'img-source']);
      tsrun(root, ['rmi', 'snap:1', 'apiimg:1', '127.0.0.1:5000/demo/tagged:1']);
    }
  });

  it('builds with DOCKER_BUILDKIT=0 docker build: the classic builder\'s steps, the image tsrun build makes, docker run of it, the cache, a failing RUN', () => {
    const context = path.join(dir, 'build-context');
    fs.mkdirSync(path.join(context, 'left-out'), { recursive: true });
    fs.writeFileSync(path.join(context, 'Dockerfile'), [
      'FROM tsrun-demo',
      'ENV GREETING=hello',
      'RUN echo "ran as $(id -u)" > /ran',
      'COPY app.txt /app/',
      'HEALTHCHECK --interval=30s CMD test -f /ran',
      'CMD ["sh", "-c", "echo $GREETING; cat /ran /app/app.txt; ls /app"]',
    ].join('\n'));
    fs.writeFileSync(path.join(context, 'app.txt'), 'from the context\n');
    fs.writeFileSync(path.join(context, 'left-out', 'secret'), 'not sent\n');
    fs.writeFileSync(path.join(context, '.dockerignore'), 'left-out\n');
    const classic = { DOCKER_BUILDKIT: '0' };
    try {
      const built = docker(['build', '-t', 'built:1', '-t', 'built:also', context], undefined, classic);
      expect(built.status, built.stderr).toBe(0);
      expect(built.stderr).toContain('DEPRECATED: The legacy builder is deprecated');
      const lines = built.stdout.split('\n');
      expect(lines.filter((line) => line.startsWith('Step '))).toEqual([
        'Step 1/6 : FROM tsrun-demo', 'Step 2/6 : ENV GREETING=hello', 'Step 3/6 : RUN echo "ran as $(id -u)" > /ran',
        'Step 4/6 : COPY app.txt /app/', 'Step 5/6 : HEALTHCHECK --interval=30s CMD test -f /ran',
        'Step 6/6 : CMD ["sh", "-c", "echo $GREETING; cat /ran /app/app.txt; ls /app"]',
      ]);
      expect(lines).not.toContain(' ---> Using cache');
      // The RUN's container, named as dockerd names it, then removed; tsrun's COPY and settings steps make none.
      const ran = lines.indexOf('Step 3/6 : RUN echo "ran as $(id -u)" > /ran');
      const container = /^ ---> Running in ([a-f0-9]{12})$/.exec(lines[ran + 1] ?? '')?.[1];
      expect(lines.slice(ran + 1, ran + 4)).toEqual([` ---> Running in ${container}`, `Removing intermediate container ${container}`, expect.stringMatching(/^ ---> [a-f0-9]{12}$/)]);
      expect(lines.filter((line) => line.includes('Running in'))).toHaveLength(1);
      expect(docker(['inspect', container!]).status).toBe(1);
      const id = docker(['image', 'inspect', '-f', '{{.Id}}', 'built:1']).stdout.trim();
      expect(built.stdout).toMatch(new RegExp(`Successfully built ${id.slice(7, 19)}\nSuccessfully tagged built:1\nSuccessfully tagged built:also\n$`));
      expect(docker(['run', '--rm', 'built:also'])).toEqual({ status: 0, stdout: 'hello\nran as 0\nfrom the context\napp.txt\n', stderr: '' });
      expect(docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'built:1']).stdout).toBe('{"Test":["CMD-SHELL","test -f /ran"],"Interval":30000000000}\n');

      // Again, and with tsrun build of the same directory: every step from the cache, the same image.
      const again = docker(['build', '-q', context], undefined, classic);
      expect(again).toMatchObject({ status: 0, stdout: `${id}\n` });
      // Without DOCKER_BUILDKIT, a CLI that has no buildx plugin uses the classic builder too, and says so.
      const cachedAgain = docker(['build', context]);
      expect(cachedAgain.stderr).toContain('Install the buildx component to build images with BuildKit');
      expect(cachedAgain.stdout.split('\n').filter((line) => line === ' ---> Using cache')).toHaveLength(5);
      const byTsrun = tsrun(root, ['build', '-q', '--network', 'none', context]);
      expect(byTsrun).toMatchObject({ status: 0, stdout: `${id}\n` });
      // The Dockerfile from standard input: the CLI puts it in the context's tar under a name of its own.
      const piped = docker(['build', '-q', '-f', '-', context], 'FROM tsrun-demo\nENV FROM_STDIN=1\n', classic);
      expect(piped.status, piped.stderr).toBe(0);
      expect(docker(['inspect', '-f', '{{.Config.Env}}', piped.stdout.trim()]).stdout).toContain('FROM_STDIN=1');
      // What .dockerignore left out never reached the daemon: COPY of it fails there.
      fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM tsrun-demo\nCOPY left-out/secret /\n');
      expect(docker(['build', context], undefined, classic)).toMatchObject({ status: 1, stderr: expect.stringContaining('Dockerfile:2: COPY left-out/secret /: left-out/secret: not found in the build context') });

      fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM tsrun-demo\nRUN echo about to fail; exit 3\n');
      const failed = docker(['build', '-t', 'built:failed', context], undefined, classic);
      expect(failed.status).toBe(3); // the command's code, as with dockerd
      // Its container removed even so (dockerd keeps it unless --force-rm; tsrun keeps none) and said to be.
      expect(failed.stdout).toMatch(/Step 2\/2 : RUN echo about to fail; exit 3\n ---> Running in ([a-f0-9]{12})\nabout to fail\nRemoving intermediate container \1\n/);
      expect(failed.stderr).toContain('Dockerfile:2: RUN echo about to fail; exit 3: process "/bin/sh -c echo about to fail; exit 3" did not complete successfully: exit code: 3');
      expect(docker(['image', 'inspect', 'built:failed'])).toMatchObject({ status: 1 });
      expectLogged(/POST \/v1\.41\/build\?.*t=built%3Afailed.* 200 /);
      expect(fs.readdirSync(path.join(root, 'tmp')).filter((name) => name.startsWith('context-'))).toEqual([]); // each context unpacked, then removed
    } finally {
      tsrun(root, ['rmi', 'built:1', 'built:also']);
    }
  });

  it('filters docker ps, network ls and volume ls as dockerd does, by the labels each keeps too, and refuses an unknown filter', () => {
    try {
      expect(docker(['network', 'create', '--label', 'team=cap', 'filnet']).status).toBe(0);
      expect(docker(['volume', 'create', '--label', 'team=cap', '--label', 'keep', 'filvol']).status).toBe(0);
      const up = docker(['run', '-d', '--name', 'fil-up', '--label', 'team=cap', '--label', 'tier=web', '--network', 'filnet', '-v', 'filvol:/data', 'tsrun-demo', 'sleep', '100']).stdout.trim();
      const three = docker(['run', '--name', 'fil-three', '-l', 'team=other', 'tsrun-demo', 'sh', '-c', 'exit 3']);
      expect(three.status).toBe(3);
      expect(docker(['create', '--name', 'fil-made', 'tsrun-demo', 'true']).status).toBe(0);
      const names = (args: string[]) => docker(['ps', ...args, '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean).sort();

      expect(docker(['inspect', '-f', '{{json .Config.Labels}}', 'fil-up']).stdout).toBe('{"team":"cap","tier":"web"}\n');
      expect(names(['--filter', 'label=team=cap'])).toEqual(['fil-up']);
      expect(names(['-a', '--filter', 'label=team'])).toEqual(['fil-three', 'fil-up']);
      expect(names(['-a', '-f', 'label=team', '-f', 'label=tier=web'])).toEqual(['fil-up']); // every label filter must match
      // status= lists stopped containers without -a; values of one key are alternatives.
      expect(names(['-f', 'status=exited'])).toEqual(['fil-three']);
      expect(names(['-f', 'status=exited', '-f', 'status=created'])).toEqual(['fil-made', 'fil-three']);
      expect(docker(['ps', '-f', 'status=running', '-q']).stdout).toBe(`${up.slice(0, 12)}\n`);
      expect(names(['-a', '-f', 'exited=3'])).toEqual(['fil-three']);
      expect(names(['-a', '-f', 'exited=0'])).toEqual([]); // fil-made never ran
      expect(names(['-a', '-f', 'name=fil-'])).toEqual(['fil-made', 'fil-three', 'fil-up']); // a pattern, found anywhere
      expect(names(['-a', '-f', 'name=^fil-up$'])).toEqual(['fil-up']);
      expect(names(['-a', '-f', `id=${up.slice(0, 8)}`])).toEqual(['fil-up']);
      expect(names(['-a', '-f', 'network=filnet'])).toEqual(['fil-up']);
      expect(names(['-a', '-f', 'volume=filvol'])).toEqual(['fil-up']);
      expect(names(['-a', '-f', 'ancestor=tsrun-demo', '-f', 'name=fil-'])).toEqual(['fil-made', 'fil-three', 'fil-up']);
      expect(names(['-a', '-f', 'ancestor=no-such-image'])).toEqual([]);
      expect(names(['-a', '-f', 'since=fil-up'])).toEqual(['fil-made', 'fil-three']);
      expect(names(['-f', 'before=fil-three', '-f', 'name=fil-'])).toEqual(['fil-up']);
      expect(names(['-n', '1'])).toEqual(['fil-made']); // the newest, running or not
      expect(docker(['ps', '-s', '-f', 'name=fil-up', '--format', '{{.Size}}']).stdout).toMatch(/^\d+B \(virtual \d+(\.\d+)?[kM]B\)\n$/);
      expect(docker(['ps', '-f', 'colour=red'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: Invalid filter \'colour\'\n' });
      expect(docker(['ps', '-f', 'status=sleeping'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: Invalid filter \'status=sleeping\'\n' });
      expect(docker(['ps', '-f', 'health=healthy'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: tsrun\'s daemon does not filter containers by health yet\n' });

      expect(docker(['network', 'inspect', '-f', '{{json .Labels}}', 'filnet']).stdout).toBe('{"team":"cap"}\n');
      const networks = (args: string[]) => docker(['network', 'ls', ...args, '--format', '{{.Name}}']).stdout;
      expect(networks(['-f', 'label=team=cap'])).toBe('filnet\n');
      expect(networks(['-f', 'type=builtin'])).toBe('bridge\nhost\nnone\n');
      expect(networks(['-f', 'driver=null'])).toBe('none\n');
      expect(networks(['-f', 'name=filn'])).toBe('filnet\n');
      expect(networks(['-f', 'dangling=true'])).toBe(''); // fil-up is on it
      expect(docker(['network', 'ls', '-f', 'colour=red'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: Invalid filter \'colour\'\n' });

      expect(docker(['volume', 'inspect', '-f', '{{json .Labels}}', 'filvol']).stdout).toBe('{"keep":"","team":"cap"}\n');
      expect(docker(['volume', 'create', 'filfree']).status).toBe(0);
      const volumes = (args: string[]) => docker(['volume', 'ls', '-q', ...args]).stdout;
      expect(volumes(['-f', 'label=keep'])).toBe('filvol\n');
      expect(volumes(['-f', 'dangling=true'])).toBe('filfree\n');
      expect(volumes(['-f', 'dangling=false'])).toBe('filvol\n');
      expect(volumes(['-f', 'name=^fil', '-f', 'driver=local'])).toBe('filfree\nfilvol\n');
      expect(docker(['volume', 'ls', '-f', 'colour=red'])).toEqual({ status: 1, stdout: '', stderr: 'Error response from daemon: Invalid filter \'colour\'\n' });

      // An image's labels are its config's: a commit with --change LABEL.
      expect(tsrun(root, ['commit', '--change', 'LABEL team=cap', 'fil-three', 'filimg:1']).status).toBe(0);
      expect(docker(['images', '-f', 'label=team=cap', '--format', '{{.Repository}}:{{.Tag}}']).stdout).toBe('filimg:1\n');
      expect(docker(['images', '-f', 'label=team=other', '-q']).stdout).toBe('');
    } finally {
      tsrun(root, ['rm', '-f', 'fil-up', 'fil-three', 'fil-made']);
      tsrun(root, ['rmi', 'filimg:1']);
      tsrun(root, ['network', 'rm', 'filnet']);
      for (const volume of ['filvol', 'filfree']) tsrun(root, ['volume', 'rm', volume]); // one missing stops the list
    }
  });

  it('tells what it did as docker events: since and until, filtered, and streamed as a container starts and dies', async () => {
    const since = (Date.now() / 1000).toFixed(3); // seconds, to the millisecond: what the earlier tests did is before it
    let follower: ChildProcess | undefined;
    try {
      const id = docker(['run', '--rm', '--name', 'ev-one', '-l', 'team=ev', 'tsrun-demo', 'sh', '-c', 'exit 2']);
      expect(id.status).toBe(2);
      expect(docker(['network', 'create', 'evnet']).status).toBe(0);
      const idle = docker(['create', '--name', 'ev-idle', 'tsrun-demo', 'true']).stdout.trim();
      expect(docker(['network', 'connect', 'evnet', 'ev-idle']).status).toBe(0);
      expect(docker(['network', 'disconnect', 'evnet', 'ev-idle']).status).toBe(0);
      expect(docker(['rm', 'ev-idle']).status).toBe(0);
      expect(docker(['network', 'rm', 'evnet']).status).toBe(0);
      expect(docker(['volume', 'create', 'evvol']).status).toBe(0);
      expect(docker(['volume', 'rm', 'evvol']).status).toBe(0);
      expect(docker(['tag', 'tsrun-demo', 'evimg:1']).status).toBe(0);
      expect(docker(['rmi', 'evimg:1']).status).toBe(0);
      const until = Math.ceil(Date.now() / 1000) + 1;
      const told = (filters: string[]) => {
        const result = docker(['events', '--since', since, '--until', String(until), ...filters, '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}']);
        expect(result.status).toBe(0);
        return result.stdout;
      };
      // A docker run --rm: create, start, die with its exit code, destroy; the container's labels among the attributes.
      expect(told(['--filter', 'type=container', '--filter', 'label=team=ev']).replace(/ [0-9a-f]{64} /g, ' ID ')).toBe([
        'container create ID {"image":"tsrun-demo","name":"ev-one","team":"ev"}',
        'container start ID {"image":"tsrun-demo","name":"ev-one","team":"ev"}',
        'container die ID {"exitCode":"2","image":"tsrun-demo","name":"ev-one","team":"ev"}',
        'container destroy ID {"image":"tsrun-demo","name":"ev-one","team":"ev"}',
        '',
      ].join('\n'));
      const network = told(['--filter', 'type=network']).split('\n').filter(Boolean).map((line) => line.split(' ').filter((_, i) => i !== 2).join(' '));
      expect(network).toEqual([
        'network create {"name":"evnet","type":"bridge"}',
        `network connect {"container":"${idle}","name":"evnet","type":"bridge"}`,
        `network disconnect {"container":"${idle}","name":"evnet","type":"bridge"}`,
        'network destroy {"name":"evnet","type":"bridge"}',
      ]);
      expect(told(['--filter', 'volume=evvol'])).toBe('volume create evvol {"driver":"local"}\nvolume destroy evvol {"driver":"local"}\n');
      expect(told(['--filter', 'type=image']).replace(/sha256:\w{64}/g, 'ID')).toBe('image tag ID {"name":"evimg:1"}\nimage untag ID {"name":"evimg:1"}\n');
      expect(told(['--filter', 'container=ev-idle', '--filter', 'event=destroy'])).toMatch(/^container destroy \w{64} \{"image":"tsrun-demo","name":"ev-idle"\}\n$/);
      expect(docker(['events', '--until', '1', '--filter', 'colour=red'])).toMatchObject({ status: 1, stderr: expect.stringContaining("Invalid filter 'colour'") });

      // Streamed: the events of a container that starts after the stream began, as they happen. The stream is
      // live once it tells of a volume made after it was asked for.
      follower = spawn(DOCKER, ['-H', `unix://${socket}`, 'events', '--filter', 'type=volume', '--filter', 'type=container',
        '--format', '{{.Action}} {{.Actor.Attributes.name}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}'], {
        env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') }, stdio: ['ignore', 'pipe', 'ignore'],
      });
      let streamed = '';
      follower.stdout!.setEncoding('utf8').on('data', (chunk: string) => { streamed += chunk; });
      await eventually(() => {
        docker(['volume', 'rm', '-f', 'evmark']);
        docker(['volume', 'create', 'evmark']);
        return streamed !== ''; // the marker's events: nothing else happens meanwhile
      });
      expect(docker(['run', '-d', '--name', 'ev-two', 'tsrun-demo', 'sh', '-c', 'sleep 0.5; exit 4']).status).toBe(0);
      await eventually(() => streamed.includes('die'));
      expect(streamed.split('\n').filter((line) => line.includes('ev-two'))).toEqual(['create ev-two', 'start ev-two', 'die ev-two 4']);
    } finally {
      follower?.kill('SIGKILL');
      tsrun(root, ['rm', '-f', 'ev-one', 'ev-idle', 'ev-two']);
      tsrun(root, ['network', 'rm', 'evnet']);
      for (const volume of ['evvol', 'evmark']) tsrun(root, ['volume', 'rm', volume]); // one missing stops the list
      tsrun(root, ['rmi', 'evimg:1']);
    }
  });

  it('answers docker system df: images, what containers wrote, volumes and what uses them', () => {
    try {
      expect(docker(['run', '--name', 'df-box', '-v', 'dfvol:/data', 'tsrun-demo', 'sh', '-c', 'echo kept > /data/file; head -c 3000 /dev/zero > /written']).status).toBe(0);
      const rows = docker(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}']);
      expect(rows.status).toBe(0);
      const [images, containers, volumes, cache] = rows.stdout.split('\n');
      expect(images).toMatch(/^Images\|\d+\|[1-9]\d*\|\d+(\.\d+)?[kM]B\|/); // active: some container, running or not, uses it
      expect(containers).toBe('Containers|1|0|3kB|3kB (100%)'); // the file it wrote; stopped, so all of it reclaimable
      expect(volumes).toBe('Local Volumes|1|1|5B|0B (0%)'); // "kept\n", in use
      expect(cache).toBe('Build Cache|0|0|0B|0B');
      const verbose = docker(['system', 'df', '-v']).stdout;
      expect(verbose).toMatch(/^dfvol +1 +5B$/m);
      expect(verbose).toMatch(/tsrun-demo .* 3kB .* df-box\n/);
    } finally {
      tsrun(root, ['rm', '-f', 'df-box']);
      tsrun(root, ['volume', 'rm', 'dfvol']);
    }
  });

  it.skipIf(!fs.existsSync(COMPOSE))('runs a two-service docker-compose project: a network, an alias, depends_on; up with --exit-code-from, up -d, ps, exec, logs, down', async () => {
    const project = path.join(dir, 'compose');
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), [
      'version: "3"',
      'services:',
      '  web:',
      '    image: tsrun-demo',
      '    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]',
      '    stop_signal: SIGKILL', // httpd as PID 1 ignores SIGTERM: no 10 s wait at each stop
      '    networks: { back: { aliases: [site] } }',
      '  client:',
      '    image: tsrun-demo',
      '    command: ["sh", "-c", "sleep 1; wget -q -O - http://site/ && wget -q -O - http://web/ && exit 3"]',
      '    depends_on: [web]',
      '    networks: [back]',
      'networks:',
      '  back: {}',
    ].join('\n') + '\n');
    const compose = (args: string[]) => {
      const result = spawnSync(COMPOSE, ['-p', 'pair', ...args], {
        cwd: project, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
        env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'docker-config') },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    try {
      // In the foreground: the client's output, and its exit code as compose's once it ends and web is stopped.
      const run = compose(['up', '--no-color', '--abort-on-container-exit', '--exit-code-from', 'client']);
      expect(run).toMatchObject({ status: 3, stderr: expect.stringMatching(/Creating network "pair_back".*Creating pair_web_1 \.\.\. done.*Creating pair_client_1 \.\.\. done/s) });
      expect(run.stdout).toMatch(/client_1 +\| hello-from-web\nclient_1 +\| hello-from-web\n(.*\n)*pair_client_1 exited with code 3\n/);
      expect(docker(['inspect', '-f', '{{.State.Status}}', 'pair_web_1']).stdout).toBe('exited\n');
      expect(docker(['inspect', '-f', '{{.State.ExitCode}} {{index .Config.Labels "com.docker.compose.service"}}', 'pair_client_1']).stdout).toBe('3 client\n');

      // Again, in the background: the same network and containers, started again (nothing to recreate).
      const up = compose(['up', '-d']);
      expect(up).toMatchObject({ status: 0, stderr: expect.stringMatching(/Starting pair_web_1 \.\.\. done.*Starting pair_client_1 \.\.\. done/s) });
      expect(up.stderr).not.toMatch(/recreate/i);
      expect(compose(['ps'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/pair_web_1 .* Up /) });
      expect(compose(['exec', '-T', 'web', 'sh', '-c', 'cat /www/index.html; exit 4'])).toMatchObject({ status: 4, stdout: 'hello-from-web\n' });
      await eventually(() => docker(['inspect', '-f', '{{.State.Status}}', 'pair_client_1']).stdout === 'exited\n');
      expect(compose(['logs', '--no-color', 'client'])).toMatchObject({ status: 0, stdout: expect.stringContaining('client_1  | hello-from-web\nclient_1  | hello-from-web\n') });
      const down = compose(['down']);
      expect(down).toMatchObject({ status: 0, stderr: expect.stringContaining('Removing network pair_back') });
      expect(docker(['ps', '-aq', '-f', 'label=com.docker.compose.project=pair']).stdout).toBe('');
      expect(docker(['network', 'ls', '-q', '-f', 'name=pair_']).stdout).toBe('');
    } finally {
      compose(['down']);
      tsrun(root, ['rm', '-f', 'pair_web_1', 'pair_client_1']);
      tsrun(root, ['network', 'rm', 'pair_back']);
    }
  });

  it.skipIf(!fs.existsSync(COMPOSE))('builds a service\'s image with docker-compose build, a build arg in it, and runs it', () => {
    const project = path.join(dir, 'compose-build');
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, 'Dockerfile'), 'FROM tsrun-demo\nARG GREETING\nRUN echo "$GREETING" > /greeting\n');
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), [
      'version: "3"',
      'services:',
      '  app:',
      '    build: { context: ., args: { GREETING: hello-from-build } }',
      '    image: built-app:1',
      '    command: ["cat", "/greeting"]',
    ].join('\n') + '\n');
    const compose = (args: string[]) => spawnSync(COMPOSE, ['-p', 'built', ...args], {
      cwd: project, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
      env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    });
    try {
      // compose 1.29 hands the build to the docker CLI, which sends it to POST /build as the classic builder.
      const built = compose(['build']);
      expect(built).toMatchObject({ status: 0, stdout: expect.stringContaining('Successfully tagged built-app:1') });
      // dockerd's classic builder counts an ARG as a step, as tsrun's daemon does.
      expect(built.stdout).toMatch(/Step 1\/3 : FROM tsrun-demo\n(.*\n)*Step 2\/3 : ARG GREETING\n(.*\n)*Step 3\/3 : RUN echo "\$GREETING" > \/greeting\n/);
      expectLogged(/POST \/v1\.41\/build\?buildargs=%7B%22GREETING%22%3A%22hello-from-build%22%7D.*t=built-app%3A1.* 200 /);
      expect(compose(['up', '--no-color'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/app_1 +\| hello-from-build\n/) });
      expect(compose(['down', '--rmi', 'all'])).toMatchObject({ status: 0, stderr: expect.stringContaining('Removing image built-app:1') });
      expect(docker(['images', '-q', 'built-app']).stdout).toBe('');
    } finally {
      compose(['down', '--rmi', 'all']);
    }
  });

  it('answers what is not Docker\'s API, or not JSON, with a JSON error, and 50 requests at once', async () => {
    const json = 'application/json';
    expect(await request(socket, 'GET', '/v1.41/no/such/endpoint')).toEqual({ status: 404, type: json, body: '{"message":"page not found"}\n' });
    expect(await request(socket, 'POST', '/v1.41/containers/create', '{"Image": ')).toMatchObject({ status: 400, type: json, body: expect.stringContaining('the request body is not JSON') });
    expect(await request(socket, 'POST', '/v1.41/containers/create', JSON.stringify({ Image: 'tsrun-demo', HostConfig: { Memory: '64m' } })))
      .toEqual({ status: 400, type: json, body: '{"message":"HostConfig.Memory must be a whole number, not a string"}\n' });
    expect(await request(socket, 'POST', '/v1.41/containers/create', 'x'.repeat(2 * 1024 * 1024))).toMatchObject({ status: 413, type: json });
    expect(await request(socket, 'POST', '/v1.41/containers/create', JSON.stringify({ Image: 'no-such-image' })))
      .toEqual({ status: 404, type: json, body: '{"message":"No such image: no-such-image:latest"}\n' });
    const answers = await Promise.all(Array.from({ length: 50 }, () => request(socket, 'GET', '/v1.41/containers/json?all=1')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(tsrun(root, ['ps', '-aq']).stdout).toBe(''); // nothing was made on the way
  });

  it('keeps serving when a client goes away in the middle of a run, and lets go of what it held for it', async () => {
    const daemonFds = () => fs.readdirSync(`/proc/${daemon.pid}/fd`).length;
    const before = daemonFds();
    const cli = spawn(DOCKER, ['-H', `unix://${socket}`, 'run', '--rm', 'tsrun-demo', 'sh', '-c', 'echo started; sleep 1; echo done'], {
      env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => cli.stdout!.once('data', resolve)); // it runs
    cli.kill('SIGKILL');
    expect(docker(['version', '--format', '{{.Server.APIVersion}}']).stdout).toBe('1.41\n');
    // The container ends on its own, and is removed (--rm); the daemon's attach, wait and files go with it.
    await eventually(() => tsrun(root, ['ps', '-aq']).stdout === '' && daemonFds() === before);
  });

  it('traces each request as a server span, the stages it runs under it, a client\'s traceparent honoured, no value of -e', async () => {
    const traced = path.join(dir, 'traced.sock');
    const traces = path.join(dir, 'traces');
    const second = spawn(process.execPath, [TSRUN, 'daemon', `--trace=${traces}`, '--host', `unix://${traced}`], { env: { ...process.env, TSRUN_ROOT: root }, stdio: 'ignore' });
    try {
      await eventually(() => fs.existsSync(traced));
      const [traceId, parentId] = ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'];
      expect((await request(traced, 'GET', '/_ping', undefined, { traceparent: `00-${traceId}-${parentId}-01` })).status).toBe(200);
      const run = spawnSync(DOCKER, ['-H', `unix://${traced}`, 'run', '--rm', '-e', 'PASSWORD=hunter2', 'tsrun-demo', 'true'], { env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') } });
      expect(run.status).toBe(0);
    } finally {
      second.kill('SIGTERM');
      await new Promise((resolve) => second.once('exit', resolve));
    }
    const file = fs.readdirSync(traces).find((name) => name.endsWith('.otlp.jsonl'))!;
    const text = fs.readFileSync(path.join(traces, file), 'utf8');
    expect(text).not.toContain('hunter2');
    type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Array<{ key: string; value: Record<string, unknown> }> };
    const spans = text.trim().split('\n').flatMap((line) => (JSON.parse(line) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> })
      .resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const attributes = (span: Span) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    const SERVER = 2; // OTLP's SPAN_KIND_SERVER
    const ping = spans.find((span) => span.name === 'GET /_ping')!;
    expect(ping).toMatchObject({ kind: SERVER, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7' });
    const start = spans.find((span) => span.name === 'POST /containers/{id}/start')!;
    expect(start.kind).toBe(SERVER);
    expect(attributes(start)).toMatchObject({
      'http.request.method': 'POST', 'http.route': '/containers/{id}/start', 'url.path': expect.stringMatching(/^\/v1\.41\/containers\/\w{64}\/start$/),
    });
    expect(Number(attributes(start)['http.response.status_code'])).toBe(204);
    const under = spans.filter((span) => span.parentSpanId === start.spanId).map((span) => span.name);
    expect(under).toEqual(['tsrun.rwlayer', 'tsrun.network', 'tsrun.namespaces', 'tsrun.exec']);
  });

  it('stops on SIGTERM: its socket goes, the containers it started run on under their monitors, what docker exec started ends', async () => {
    const id = docker(['run', '-d', 'tsrun-demo', 'sleep', '100']).stdout.trim();
    expect(docker(['exec', '-d', id, 'sleep', '101']).status).toBe(0);
    const execs = () => fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u0000101\u0000';
      } catch {
        return false;
      }
    });
    await eventually(() => execs().length === 1);
    daemon.kill('SIGTERM');
    expect(await new Promise((resolve) => daemon.once('exit', resolve))).toBe(0);
    await eventually(() => execs().length === 0);
    expect(fs.existsSync(socket)).toBe(false);
    expect(daemonLog()).toContain('SIGTERM: stopping the daemon');
    expect(tsrun(root, ['inspect', '-f', '{{.State.Status}}', id]).stdout).toBe('running\n');
    expect(tsrun(root, ['rm', '-f', id]).status).toBe(0);
  });
});

// `tsrun build`, as root: a suite of small Dockerfiles, built into a store with the demo image, checked
// by running what they make with `tsrun run` (its files, modes, owners and config are what the Dockerfile
// says), by the cache's CACHED lines (a changed file rebuilds only its COPY and what follows, a changed
// build arg the RUNs that have it), by multi-stage builds, .dockerignore, and the failing cases.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';
import { parseOtlpLines, plainValue, spansOf } from '../../src/trace/otlp-json.js';
import { tempDir } from '../helpers/images.js';
import { buildSteps, contextIn } from '../helpers/build.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun build (as root)', () => {
  let root: string;
  let work: string;
  const run = (...args: string[]) => tsrun(root, args);
  const ok = (...args: string[]) => {
    const result = run(...args);
    expect(result.stderr, result.stderr).not.toMatch(/ERROR|tsrun:/);
    expect(result.status).toBe(0);
    return result.stdout;
  };
  const context = (name: string, files: Record<string, string>) => contextIn(work, name, files);
  const build = (dir: string, ...flags: string[]) => run('build', '--network', 'none', ...flags, dir);
  const inContainer = (image: string, command: string) => ok('run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', command);

  beforeAll(async () => {
    root = await storeWithDemoImage('build');
    work = tempDir('build');
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('builds each instruction into an image that runs with tsrun run, its files, owners and settings as written', () => {
    const dir = context('each', {
      'Dockerfile': [
        'ARG BASE=tsrun-demo',
        'FROM $BASE',
        'ARG WHO=builder',
        'ENV APP=/app GREETING="hello there"',
        'WORKDIR $APP',
        'COPY greeting.txt ./',
        'COPY --chown=student:student --chmod=750 scripts/ bin/',
        'COPY data/*.csv /data/',
        'RUN echo "made by $WHO" > made && chmod 604 made',
        'RUN ["/bin/sh", "-c", "echo exec form > exec"]',
        'SHELL ["/bin/sh", "-e", "-c"]',
        'RUN test "$(cat made)" = "made by builder"',
        'USER student',
        'RUN id -u > /tmp/uid',
        'LABEL org.example.course="containers 101" version=1',
        'EXPOSE 8080 53/udp',
        'VOLUME /data',
        'STOPSIGNAL SIGINT',
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["cat $APP/greeting.txt; echo $GREETING"]',
      ].join('\n'),
      'greeting.txt': 'hi from the context\n',
      'scripts/run.sh': '#!/bin/sh\necho running\n',
      'scripts/lib/util.sh': 'true\n',
      'data/a.csv': '1\n', 'data/b.csv': '2\n', 'data/skip.txt': 'no\n',
    });
    const result = build(dir, '-t', 'each:1');
    expect(result.stderr).toMatch(/#\d+ \[1\/18\] FROM tsrun-demo\n/);
    expect(result.stderr).toContain('naming to docker.io/library/each:1 done');
    expect(result.status).toBe(0);

    expect(ok('run', '--rm', '--network', 'none', 'each:1')).toBe('hi from the context\nhello there\n');
    const seen = inContainer('each:1', 'cd /app && stat -c "%n %a %u:%g" greeting.txt bin bin/run.sh bin/lib bin/lib/util.sh made exec /tmp/uid && ls /data && cat exec /tmp/uid');
    expect(seen.split('\n')).toEqual([
      'greeting.txt 644 0:0',
      'bin 750 1000:1000',
      'bin/run.sh 750 1000:1000',
      'bin/lib 750 1000:1000',
      'bin/lib/util.sh 750 1000:1000',
      'made 604 0:0',
      'exec 644 0:0',
      '/tmp/uid 644 1000:1000',
      'a.csv', 'b.csv',
      'exec form',
      '1000',
      '',
    ]);
    const config = JSON.parse(ok('inspect', '-f', '{{json .Config}}', 'each:1'));
    expect(config).toMatchObject({
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP=/app', 'GREETING=hello there'],
      WorkingDir: '/app',
      User: 'student',
      Labels: { 'org.example.course': 'containers 101', version: '1' },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
      Shell: ['/bin/sh', '-e', '-c'],
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat $APP/greeting.txt; echo $GREETING'],
    });
    expect(config.Env.join(' ')).not.toContain('WHO'); // a build arg is not kept in the image

    const history = ok('history', '--no-trunc', 'each:1').split('\n');
    expect(history[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(history[1]).toMatch(/^sha256:[a-f0-9]{64} +.* ago +CMD \["cat \$APP\/greeting.txt; echo \$GREETING"\] +0B/);
    expect(history.find((line) => line.includes('RUN |1 WHO=builder /bin/sh -c echo'))).toMatch(/ \d+B/);
    // Up the parent chain: each step's image, then the image FROM named (its one entry).
    expect(ok('history', '-q', 'each:1').split('\n').at(-2)).toBe(ok('inspect', '-f', '{{.Id}}', 'tsrun-demo').trim().slice('sha256:'.length, 'sha256:'.length + 12));
    // What another tool reads of it: the layers and the config, from the docker-archive tsrun save writes.
    const archive = path.join(work, 'each.tar');
    ok('save', '-o', archive, 'each:1');
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${archive}`], { encoding: 'utf8' }));
    expect(inspected.rootfs.diff_ids).toEqual(JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', 'each:1')));
    expect(inspected.config).toMatchObject({ User: 'student', WorkingDir: '/app', Cmd: ['cat $APP/greeting.txt; echo $GREETING'] });
    expect(ok('images')).not.toMatch(/<none>/); // a build's intermediate images are hidden, as docker hides them
    expect(ok('images', '-a')).toMatch(/<none>/);
  });

  it('makes WORKDIR\'s directory when the image has none, owned by USER as BuildKit makes it', () => {
    const dir = context('workdir', { 'Dockerfile': 'FROM tsrun-demo\nUSER student\nWORKDIR /home/student/work/deep\nWORKDIR /tmp\nWORKDIR ../srv\n' });
    expect(build(dir, '-t', 'workdir:1').status).toBe(0);
    expect(ok('run', '--rm', '--network', 'none', '-u', 'root', 'workdir:1', 'stat', '-c', '%n %a %u:%g', '/home/student/work', '/home/student/work/deep', '/srv'))
      .toBe('/home/student/work 755 1000:1000\n/home/student/work/deep 755 1000:1000\n/srv 755 1000:1000\n');
    const history = ok('history', 'workdir:1').split('\n');
    expect(history.find((line) => line.includes('WORKDIR /tmp'))).toMatch(/ 0B/); // there already: settings only
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.WorkingDir}}', 'workdir:1'))).toBe('/srv');
  });

  it('takes unchanged steps from the cache: a changed file rebuilds its COPY and what follows, a changed build arg the RUN that has it', () => {
    const dir = context('cache', {
      'Dockerfile': [
        'FROM tsrun-demo',
        'COPY deps.txt /deps.txt',
        'RUN cat /deps.txt > /installed',
        'ARG VERSION=1',
        'COPY app.txt /app.txt',
        'RUN echo "v$VERSION" > /version',
        'CMD ["cat", "/version"]',
      ].join('\n'),
      'deps.txt': 'dep 1\n',
      'app.txt': 'app 1\n',
    });
    const first = build(dir, '-t', 'cached:1');
    expect(buildSteps(first).cached).toEqual([]);
    const id = ok('inspect', '-f', '{{.Id}}', 'cached:1');

    const again = build(dir, '-t', 'cached:1');
    expect(buildSteps(again)).toEqual({ cached: ['COPY deps.txt /deps.txt', 'RUN cat /deps.txt > /installed', 'COPY app.txt /app.txt', 'RUN echo "v$VERSION" > /version', 'CMD ["cat", "/version"]'], ran: [] });
    expect(ok('inspect', '-f', '{{.Id}}', 'cached:1')).toBe(id);

    fs.utimesSync(path.join(dir, 'app.txt'), new Date(1000), new Date(1000)); // touched, not changed: still cached
    expect(buildSteps(build(dir)).ran).toEqual([]);

    fs.writeFileSync(path.join(dir, 'app.txt'), 'app 2\n');
    expect(buildSteps(build(dir))).toEqual({
      cached: ['COPY deps.txt /deps.txt', 'RUN cat /deps.txt > /installed'],
      ran: ['COPY app.txt /app.txt', 'RUN echo "v$VERSION" > /version', 'CMD ["cat", "/version"]'],
    });

    const rebuilt = build(dir, '--build-arg', 'VERSION=2', '-t', 'cached:2');
    expect(buildSteps(rebuilt)).toEqual({
      cached: ['COPY deps.txt /deps.txt', 'RUN cat /deps.txt > /installed', 'COPY app.txt /app.txt'],
      ran: ['RUN echo "v$VERSION" > /version', 'CMD ["cat", "/version"]'],
    });
    expect(ok('run', '--rm', '--network', 'none', 'cached:2')).toBe('v2\n');

    // rmi removes the tagged image, the last step's: the step runs again, the ones before it are still cached.
    ok('rmi', 'cached:2');
    expect(buildSteps(build(dir, '--build-arg', 'VERSION=2'))).toEqual({
      cached: ['COPY deps.txt /deps.txt', 'RUN cat /deps.txt > /installed', 'COPY app.txt /app.txt', 'RUN echo "v$VERSION" > /version'],
      ran: ['CMD ["cat", "/version"]'],
    });

    expect(buildSteps(build(dir, '--no-cache')).cached).toEqual([]);
  });

  it('builds a multi-stage Dockerfile: COPY --from a stage or an image, --target, and skips the stages not needed', () => {
    const dir = context('stages', {
      'Dockerfile': [
        'FROM tsrun-demo AS builder',
        'RUN mkdir /out && echo compiled > /out/program && chmod 755 /out/program',
        'FROM tsrun-demo AS broken',
        'RUN echo "this stage is not needed" && exit 1',
        'FROM scratch AS final',
        'COPY --from=builder /out/program /bin/program',
        'COPY --from=tsrun-demo /bin/busybox /bin/busybox',
        'COPY --from=0 /etc/passwd /etc/passwd',
        'CMD ["/bin/busybox", "cat", "/bin/program"]',
      ].join('\n'),
    });
    const result = build(dir, '-t', 'stages:final');
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('[broken');
    expect(result.stderr).toMatch(/\[final 2\/5\] COPY --from=builder/);
    expect(ok('run', '--rm', '--network', 'none', 'stages:final')).toBe('compiled\n');
    expect(JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', 'stages:final'))).toHaveLength(3); // FROM scratch: only the copies
    const listed = ok('run', '--rm', '--network', 'none', '--entrypoint', '/bin/busybox', 'stages:final', 'stat', '-c', '%n %a %u:%g', '/bin/program', '/etc/passwd');
    expect(listed).toBe('/bin/program 755 0:0\n/etc/passwd 644 0:0\n');

    const target = build(dir, '--target', 'builder', '-t', 'stages:builder');
    expect(target.status).toBe(0);
    expect(target.stderr).not.toMatch(/\[(final|broken) /);
    expect(inContainer('stages:builder', 'cat /out/program')).toBe('compiled\n');
  });

  it('ADDs as COPY does, unpacks a local tar archive into the destination, and fails clearly on a URL it cannot reach', () => {
    const dir = context('add', {
      'Dockerfile': 'FROM tsrun-demo\nADD pkg.tar.gz /opt/\nADD --chown=student:student notes.txt /home/student/\nADD data/*.csv /data/\n',
      'pkg/bin/tool': 'echo tool\n', 'notes.txt': 'notes\n', 'data/a.csv': '1\n', 'data/b.csv': '2\n',
    });
    fs.chmodSync(path.join(dir, 'pkg/bin/tool'), 0o750);
    execFileSync('tar', ['czf', path.join(dir, 'pkg.tar.gz'), '--owner=1000', '--group=1000', '-C', dir, 'pkg']);
    fs.rmSync(path.join(dir, 'pkg'), { recursive: true });
    expect(build(dir, '-t', 'added:1').status).toBe(0);
    expect(inContainer('added:1', 'stat -c "%n %a %u:%g" /opt/pkg/bin/tool /home/student/notes.txt && cat /opt/pkg/bin/tool && ls /data && ls /opt')).toBe([
      '/opt/pkg/bin/tool 750 1000:1000', '/home/student/notes.txt 644 1000:1000', 'echo tool', 'a.csv', 'b.csv', 'pkg', '',
    ].join('\n'));
    expect(buildSteps(build(dir)).ran).toEqual([]); // the archive's contents are what the cache compares

    const offline = build(context('add-url', { 'Dockerfile': 'FROM tsrun-demo\nADD http://no-such-host.invalid/tool.sh /usr/bin/\n' }));
    expect(offline.status).toBe(1);
    expect(offline.stderr.trimEnd().split('\n').at(-1)).toMatch(/^tsrun: Dockerfile:2: ADD http:\/\/no-such-host\.invalid\/tool\.sh \/usr\/bin\/: cannot download http:\/\/no-such-host\.invalid\/tool\.sh: getaddrinfo \w+ no-such-host\.invalid — ADD of a URL needs the network/);
  });

  it('records HEALTHCHECK in the image\'s config as Docker does, and NONE takes the base\'s away', () => {
    const dir = context('health', { 'Dockerfile': 'FROM tsrun-demo\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://localhost/ || exit 1\n' });
    expect(build(dir, '-t', 'health:1').status).toBe(0);
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.Healthcheck}}', 'health:1'))).toEqual({ Test: ['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1'], Interval: 5e9, Retries: 2 });
    expect(ok('history', '--no-trunc', 'health:1').split('\n')[1]).toContain(' HEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://localhost/ || exit 1 ');
    expect(build(context('health-none', { 'Dockerfile': 'FROM health:1\nHEALTHCHECK NONE\n' }), '-t', 'health:none').status).toBe(0);
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.Healthcheck}}', 'health:none'))).toEqual({ Test: ['NONE'] });
  });

  it('records ONBUILD, and runs its instructions first in a build FROM the image, with that build\'s context', () => {
    const base = context('onbuild-base', { 'Dockerfile': 'FROM tsrun-demo\nONBUILD COPY app.txt /app/\nONBUILD RUN echo "built for $(cat /app/app.txt)" > /app/built\n' });
    expect(build(base, '-t', 'onbase:1').status).toBe(0);
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.OnBuild}}', 'onbase:1'))).toEqual(['COPY app.txt /app/', 'RUN echo "built for $(cat /app/app.txt)" > /app/built']);
    expect(inContainer('onbase:1', 'ls /app 2>&1 || true')).toMatch(/No such file or directory/); // not run in its own build

    const child = context('onbuild-child', { 'Dockerfile': 'FROM onbase:1\nCMD ["cat", "/app/built"]\n', 'app.txt': 'the child' });
    const result = build(child, '-t', 'onchild:1');
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/#\d+ ONBUILD COPY app\.txt \/app\/\n#\d+ DONE[^\n]*\n\n#\d+ ONBUILD RUN echo /);
    expect(ok('run', '--rm', '--network', 'none', 'onchild:1')).toBe('built for the child\n');
    // The triggers ran once: the image they made has none, so a build FROM it runs none.
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.OnBuild}}', 'onchild:1'))).toBeNull();
    expect(buildSteps(build(context('onbuild-grandchild', { 'Dockerfile': 'FROM onchild:1\nENV A=1\n' }))).ran).toEqual(['ENV A=1']);
  });

  it('leaves out what .dockerignore names, and takes back its ! exceptions', () => {
    const dir = context('ignore', {
      'Dockerfile': 'FROM tsrun-demo\nCOPY . /ctx/\n',
      '.dockerignore': '*.log\n**/secret*\ndocs\n!docs/keep.md\n',
      'app.txt': '', 'debug.log': '', 'sub/secret.key': '', 'sub/code.txt': '', 'docs/guide.md': '', 'docs/keep.md': '',
    });
    expect(build(dir, '-t', 'ignored:1').status).toBe(0);
    expect(inContainer('ignored:1', 'cd /ctx && find . | sort')).toBe([
      '.', './.dockerignore', './Dockerfile', './app.txt', './docs', './docs/keep.md', './sub', './sub/code.txt', '',
    ].join('\n'));
    const missing = run('build', '--network', 'none', context('ignore-copy', { 'Dockerfile': 'FROM tsrun-demo\nCOPY debug.log /\n', '.dockerignore': '*.log\n', 'debug.log': '' }));
    expect(missing).toMatchObject({ status: 1, stderr: expect.stringContaining('tsrun: Dockerfile:2: COPY debug.log /: debug.log: not found in the build context') });
  });

  it('stops at bad input with one message naming the line and the instruction, exit 1, and tags nothing', () => {
    const failing = (name: string, dockerfile: string) => {
      const result = build(context(name, { 'Dockerfile': dockerfile }), '-t', `failed:${name}`);
      expect(result.status).toBe(1);
      expect(run('inspect', `failed:${name}`).status).not.toBe(0);
      return result.stderr.trimEnd().split('\n').at(-1);
    };
    expect(failing('unknown', 'FROM tsrun-demo\nRUN true\nCOPYY a b\n')).toBe(
      'tsrun: Dockerfile:3: COPYY a b: unknown instruction: COPYY — Dockerfile instructions are ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR');
    expect(failing('missing', 'FROM tsrun-demo\nCOPY nowhere.txt /\n')).toMatch(/^tsrun: Dockerfile:2: COPY nowhere.txt \/: nowhere.txt: not found in the build context/);
    expect(failing('run', 'FROM tsrun-demo\nRUN echo partial > /file\nRUN echo about to fail; exit 3\n')).toBe(
      'tsrun: Dockerfile:3: RUN echo about to fail; exit 3: process "/bin/sh -c echo about to fail; exit 3" did not complete successfully: exit code: 3 — see the command\'s output above');
    expect(failing('circle', 'FROM tsrun-demo AS a\nCOPY --from=b /x /x\nFROM tsrun-demo AS b\nCOPY --from=a /x /y\n')).toMatch(/^tsrun: Dockerfile:2: COPY --from=b \/x \/x: the stages need each other in a circle: b → a → b/);
    const output = build(context('run-output', { 'Dockerfile': 'FROM tsrun-demo\nRUN echo about to fail; exit 3\n' }));
    expect(output.stderr).toMatch(/#2 \d+\.\d{3} about to fail\n#2 ERROR: process .* exit code: 3/);
    expect(ok('ps', '-a', '-q')).toBe(''); // every RUN's container removed, the failed ones too
  });

  it('prints only the image id with -q, writes it to --iidfile, reads the Dockerfile from -f, and adds --label', () => {
    const dir = context('quiet', { 'Dockerfile.custom': 'FROM tsrun-demo\nRUN echo noisy\nLABEL a=1\n' });
    const iid = path.join(work, 'iid');
    const quiet = run('build', '-q', '--network', 'none', '-f', path.join(dir, 'Dockerfile.custom'), '--iidfile', iid, '--label', 'extra=yes', dir);
    expect(quiet).toMatchObject({ status: 0, stderr: '' });
    expect(quiet.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(fs.readFileSync(iid, 'utf8')).toBe(quiet.stdout.trim());
    expect(JSON.parse(ok('inspect', '-f', '{{json .Config.Labels}}', quiet.stdout.trim()))).toEqual({ a: '1', extra: 'yes' });
    // A failing step is the exception: its block is shown, its output with it, then the error.
    const failing = run('build', '-q', '--network', 'none', context('quiet-fail', { 'Dockerfile': 'FROM tsrun-demo\nRUN echo noisy; exit 2\n' }));
    expect(failing).toMatchObject({ status: 1, stdout: '' });
    expect(failing.stderr).toMatch(/^#2 \[2\/2\] RUN echo noisy; exit 2\n#2 \d+\.\d{3} noisy\n#2 ERROR: process .* exit code: 2\n\ntsrun: Dockerfile:2: /);
    const bad = context('quiet-bad', { 'Dockerfile.custom': 'FROM tsrun-demo\nWORKDIR\n' });
    const wrong = run('build', '-f', path.join(bad, 'Dockerfile.custom'), bad);
    expect(wrong.stderr).toContain('Dockerfile.custom:2: WORKDIR'); // named as the file is
  });

  it('pulls the image FROM names again with --pull, even when the store has it', () => {
    const dir = context('pull', { 'Dockerfile': 'FROM tsrun-demo\n' });
    expect(build(dir).status).toBe(0);
    const pulled = build(dir, '--pull'); // tsrun-demo is no registry's: the pull fails
    expect(pulled.status).toBe(1);
    expect(pulled.stderr).toMatch(/tsrun: Dockerfile:1: FROM tsrun-demo: .*docker\.io/);
  });

  it('traces a build: a root span, a tsrun.build.step per instruction, and a RUN\'s run stages inside its step', () => {
    const dir = context('traced', { 'Dockerfile': 'FROM tsrun-demo\nCOPY f /f\nRUN echo ran > /ran\nENV A=1\n', 'f': 'traced\n' });
    const file = path.join(work, 'traced.json');
    expect(run(`--trace=${file}`, 'build', '--network', 'none', dir).status).toBe(0);
    const spans = spansOf(parseOtlpLines(fs.readFileSync(file.replace(/\.json$/, '.otlp.jsonl'), 'utf8'))).map((s) => s.span);
    const attributes = (span: (typeof spans)[number]) => Object.fromEntries((span.attributes ?? []).map((a) => [a.key, plainValue(a.value)]));
    const root = spans.find((span) => span.name === 'tsrun build')!;
    const steps = spans.filter((span) => span.parentSpanId === root.spanId && span.name === 'tsrun.build.step');
    expect(steps.map((step) => attributes(step)['tsrun.build.instruction'])).toEqual(['FROM tsrun-demo', 'COPY f /f', 'RUN echo ran > /ran', 'ENV A=1']);
    const [, copy, runStep, env] = steps;
    expect(attributes(copy!)).toMatchObject({ 'tsrun.build.cached': false, 'tsrun.build.line': 2, 'tsrun.build.layer.digest': expect.stringMatching(/^sha256:/), 'tsrun.build.layer.size': expect.any(Number) });
    expect(attributes(env!)).not.toHaveProperty('tsrun.build.layer.digest'); // settings only: no layer
    const inRun = spans.filter((span) => span.parentSpanId === runStep!.spanId).map((span) => span.name);
    expect(inRun).toEqual(expect.arrayContaining(['tsrun.pull', 'tsrun.create', 'tsrun.rwlayer', 'tsrun.network', 'tsrun.namespaces', 'tsrun.exec']));
  });

  it('runs RUN on the default bridge network when no --network is given', () => {
    const dir = context('bridge', { 'Dockerfile': 'FROM tsrun-demo\nRUN ls /sys/class/net > /net\n' });
    const result = run('build', '-t', 'bridged:1', dir);
    expect(result.status, result.stderr).toBe(0);
    expect(inContainer('bridged:1', 'cat /net').split('\n')).toContain('eth0');
  });
});

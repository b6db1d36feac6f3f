// `tsrun run --explain` tells the truth: every value it prints is the real one,
// every command it suggests exists, and the container's stdout stays clean.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { STAGES } from '../../src/container.js';
import { findLesson } from '../../src/teach/terminal-lesson.js';
import type { ExplainEvent } from '../../src/teach/explain.js';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;
const registered = new Set(commands.map((c) => String(c.command).split(' ')[0]));

/** A suggested command exists: a program on PATH, or a tsrun subcommand tsrun has. */
function expectCommandExists(command: string): void {
  const [program, subcommand] = command.split(' ');
  if (program === 'tsrun') {
    expect(registered, command).toContain(subcommand);
  } else {
    expect(() => execFileSync('sh', ['-c', `command -v ${program}`]), command).not.toThrow();
  }
}

describe.skipIf(!asRoot)('tsrun run --explain (as root)', () => {
  let root: string;
  beforeAll(async () => {
    root = await storeWithDemoImage('explain');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('narrates every stage in order with the real values, in JSON lines', () => {
    const result = tsrun(root, ['run', '--explain=json', '--name', 'told', 'tsrun-demo', 'sh', '-c', 'echo container-output; readlink /proc/self/ns/pid']);
    expect(result.status).toBe(0);
    const [firstLine, pidNamespace] = result.stdout.trim().split('\n');
    expect(firstLine).toBe('container-output'); // stdout holds only the container's output
    const events = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as ExplainEvent);

    const stages = events.filter((e) => e.event === 'stage');
    expect(stages.map((e) => e.stage)).toEqual([...STAGES]);
    for (const stage of stages) expect(() => findLesson(stage.lesson)).not.toThrow();

    const results = Object.fromEntries(events.flatMap((e) => (e.event === 'result' ? [[e.stage, e.values]] : [])));
    const images = tsrun(root, ['images', '--no-trunc', '-q']).stdout.trim();
    expect(results.pull!['image id']).toBe(images);
    const id = results.create!['container id'] as string;
    expect(tsrun(root, ['ps', '-a', '--no-trunc']).stdout).toMatch(new RegExp(`^${id} .* told\\n`, 'm'));
    expect(results.rwlayer!.upperdir).toBe(path.join(root, 'containers', id, 'upper'));
    expect(fs.readFileSync(path.join(root, 'containers', id, 'upper', '..', 'hostname'), 'utf8')).toBe(`${id.slice(0, 12)}\n`);
    expect(results.namespaces!['clone flags']).toMatch(/CLONE_NEWPID/);
    // The cable, as the rtnetlink messages sent: the veth pair on the host, then loopback, eth0's address and the route inside.
    expect(results.network!.rtnetlink).toEqual([
      expect.stringMatching(new RegExp(`^RTM_NEWLINK IFLA_IFNAME=tsrun${id.slice(0, 8)} IFLA_INFO_KIND=veth .*IFLA_MASTER=tsrun0 ifi_flags=IFF_UP `
        + 'VETH_INFO_PEER=\\{IFLA_IFNAME=eth0 .*IFLA_NET_NS_FD=\\$NETNS\\}$')),
      'in $NETNS: RTM_NEWLINK IFLA_IFNAME=lo ifi_flags=IFF_UP',
      expect.stringMatching(/^in \$NETNS: RTM_NEWADDR ifa_index=eth0 ifa_prefixlen=16 IFA_LOCAL=10\.88\.\d+\.\d+$/),
      'in $NETNS: RTM_NEWLINK IFLA_IFNAME=eth0 ifi_flags=IFF_UP',
      'in $NETNS: RTM_NEWROUTE RTA_GATEWAY=10.88.0.1',
    ]);

    const started = events.find((e) => e.event === 'started')!;
    expect(started.event === 'started' && started.namespaces.pid).toBe(pidNamespace);
    if (started.event === 'started') {
      expect(started.process.argv).toEqual(['sh', '-c', 'echo container-output; readlink /proc/self/ns/pid']);
      for (const command of started.look) expectCommandExists(command);
    }
    expect(events.at(-1)).toMatchObject({ event: 'exited', exitCode: 0 });
    expect(tsrun(root, ['rm', 'told']).status).toBe(0);
  });

  it('writes words to stderr and leaves stdout to the container', () => {
    const result = tsrun(root, ['run', '--rm', '--explain', 'tsrun-demo', 'echo', 'only this']);
    expect(result.stdout).toBe('only this\n');
    expect(result.stderr).toMatch(/── 1\/6 pull/);
    expect(result.stderr).toMatch(/── 6\/6 exec/);
    expect(result.stderr).toMatch(/exited with code 0/);
    expect(result.stderr).not.toMatch(/\x1b\[/); // NO_COLOR is set by the helper, and stderr is not a terminal
  });

  it('runs to the end and cleans up when the reader of its words goes away (--explain 2>&1 | head)', () => {
    // `head -c 1` reads one byte and leaves: every later write of tsrun's meets a closed pipe (EPIPE).
    const pipeline = `${JSON.stringify(process.execPath)} ${JSON.stringify(TSRUN)} run --rm --network none --explain tsrun-demo sh -c 'sleep 0.3' 2>&1 | head -c 1; echo " status \${PIPESTATUS[0]}"`;
    const result = spawnSync('bash', ['-c', pipeline], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1', TSRUN_ROOT: root } });
    expect(result.stdout).toBe('\n status 0\n'); // the first byte of the words, then tsrun's own exit status
    expect(tsrun(root, ['ps', '-aq']).stdout).toBe(''); // --rm did its work
  });

  it('refuses --step without a terminal, and an unknown --explain format', () => {
    const step = tsrun(root, ['run', '--rm', '--step', 'tsrun-demo', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true } as SpawnSyncOptions); // spawnSync honours detached (setsid); its type omits it
    expect(step.status).toBe(125);
    expect(step.stderr).toMatch(/--step needs a terminal/);
    const format = tsrun(root, ['run', '--rm', '--explain=xml', 'tsrun-demo', 'true']);
    expect(format.status).toBe(125);
    expect(format.stderr).toMatch(/--explain=xml is not a format/);
  });
});

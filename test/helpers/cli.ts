// Run the real CLI (bin/tsrun.js, compiled) as a child process, as a user would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoImage } from '../../src/image/demo.js';

export const TSRUN = path.resolve(import.meta.dirname, '../../bin/tsrun.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function tsrun(root: string, args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [TSRUN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...options.env, TSRUN_ROOT: root },
  });
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** What a run could leave behind on the host: mounts (an overlay, a netns file), processes that are tsrun
 *  or live in another PID namespace than ours (a container's), the host ends of veth pairs and user
 *  networks' bridges (the default bridge tsrun0 stays, by design, until `network prune`), container cgroups,
 *  and the firewall's port publications (DNAT rules, nft or iptables). */
export function hostSnapshot(): { mounts: string[]; processes: string[]; links: string[]; cgroups: string[]; dnat: string[] } {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ').slice(3, 5).join(' ')) // root and mount point: ids change, places don't
    .filter(Boolean).sort();
  const ourPidNs = fs.readlinkSync('/proc/self/ns/pid');
  const processes = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      // A zombie has exited already: only its parent's reaping is left, which this VM's PID 1 may take long to do.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') return [];
      const foreign = fs.readlinkSync(`/proc/${pid}/ns/pid`) !== ourPidNs;
      return foreign || cmdline.includes(TSRUN) ? [`${pid} ${cmdline}`] : [];
    } catch {
      return []; // exited while we looked
    }
  });
  const links = fs.readdirSync('/sys/class/net').filter((name) => name.startsWith('tsrun') && name !== 'tsrun0').sort();
  const cgroups = mounts.map((m) => m.split(' ')[1]!).filter((at) => at.startsWith('/sys/fs/cgroup/'))
    .flatMap((at) => {
      const parent = path.join(at, 'tsrun');
      return fs.existsSync(parent) ? fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(parent, e.name)) : [];
    }).sort();
  const firewall = ['nft list ruleset', 'iptables-save -t nat'].map((command) => spawnSync('sh', ['-c', `${command} 2>/dev/null`], { encoding: 'utf8' }).stdout).join('\n');
  const dnat = firewall.split('\n').map((line) => line.trim()).filter((line) => /dnat to |-j DNAT /.test(line)).sort();
  return { mounts, processes: processes.sort(), links, cgroups, dnat };
}

/** Polls `check` every 50 ms until it holds; fails after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The links a released container leaves to the kernel (its veth pairs go with its namespace, 10-30 ms after tsrun
 *  has returned): polls `links` until it answers none, at most 5 s. */
export async function linksGone(links: () => string[]): Promise<string[]> {
  for (let i = 0; i < 100 && links().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return links();
}

/** A fresh store under the temp dir with the demo image loaded: what most integration tests start from. */
export async function storeWithDemoImage(label: string): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-${label}-`));
  const imageDir = path.join(root, 'demo-image');
  await buildDemoImage(imageDir);
  const loaded = tsrun(root, ['load', '-i', imageDir]);
  if (loaded.status !== 0 || loaded.stderr !== '') throw new Error(`loading the demo image failed (exit ${loaded.status}): ${loaded.stderr}`);
  return root;
}

// The instructions that change only an image's settings (ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, CMD,
// ENTRYPOINT, STOPSIGNAL, SHELL, MAINTAINER, HEALTHCHECK, ONBUILD): each read into the change it makes, applied
// by the same applySetting that `tsrun commit -c` uses where it knows the instruction. Each makes an image with
// one more history entry and no layer (but WORKDIR, which also makes its directory when the image has none:
// build.ts).
import path from 'node:path';
import type { ContainerConfig, HealthConfig } from '../image/oci.js';
import { applySetting, type Setting } from '../image/changes.js';
import { buildError, flagValue, jsonForm, type Dockerfile, type Instruction } from './dockerfile.js';
import { expand } from './plan.js';
import type { Lookup } from './words.js';

/** What a settings instruction does, ready to apply. */
export interface SettingsChange {
  /** The instruction as `tsrun history` shows it, variables replaced: `ENV A=1`. */
  text: string;
  apply(config: ContainerConfig): void;
  /** MAINTAINER sets the image's author, which is not one of its settings. */
  author?: string;
}

export const SETTINGS_KEYWORDS = ['ENV', 'WORKDIR', 'USER', 'LABEL', 'EXPOSE', 'VOLUME', 'CMD', 'ENTRYPOINT', 'STOPSIGNAL', 'SHELL', 'MAINTAINER', 'HEALTHCHECK', 'ONBUILD'];

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The shell form as Docker runs it: the image's SHELL (by default /bin/sh -c) with the text as one argument;
 *  the exec form (a JSON array) as it is. */
export function commandOf(args: string, config: ContainerConfig): string[] {
  return jsonForm(args) ?? withShell(args, config);
}

export function withShell(command: string, config: ContainerConfig): string[] {
  return [...(config.Shell ?? DEFAULT_SHELL), command];
}

// #region settings
export function settingsChange(
  dockerfile: Dockerfile, instruction: Instruction, config: ContainerConfig, lookup: Lookup, warnings: string[], cmdSetInStage: boolean,
): SettingsChange {
  const word = (text: string) => expand(dockerfile, instruction, text, lookup, warnings);
  const { keyword, args } = instruction;
  const setting = (change: Setting, text: string): SettingsChange => ({ text, apply: (target) => applySetting(target, change) });
  switch (keyword) {
    case 'ENV': case 'LABEL': {
      const pairs = instruction.properties.map(({ name, value }): [string, string] => {
        if (value === null && keyword === 'ENV') throw buildError(dockerfile, instruction, `ENV names ${name} but gives it no value`, `write ENV ${name}=VALUE`);
        return [keyword === 'LABEL' ? word(name) : name, word(value ?? '')];
      });
      return setting({ keyword, pairs }, `${keyword} ${pairs.map(([name, value]) => `${name}=${value}`).join(' ')}`);
    }
    case 'WORKDIR': {
      // A relative WORKDIR continues from the one before; either is cleaned ("/a/../b/" is "/b"), as Docker does.
      const absolute = path.posix.resolve(config.WorkingDir || '/', word(args.trim()));
      return setting({ keyword, value: absolute }, `WORKDIR ${absolute}`);
    }
    case 'USER': case 'STOPSIGNAL': {
      const value = word(args.trim());
      return setting({ keyword, value }, `${keyword} ${value}`);
    }
    case 'EXPOSE': {
      const items = instruction.words.flatMap((text) => word(text).split(/\s+/)).filter(Boolean);
      const invalid = items.find((port) => !/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(port));
      if (invalid !== undefined) throw buildError(dockerfile, instruction, `invalid port "${invalid}"`, 'write PORT or PORT/PROTOCOL, e.g. 80 or 53/udp');
      return setting({ keyword, items: items.map((port) => port.toLowerCase()) }, `EXPOSE ${items.join(' ')}`);
    }
    case 'VOLUME': {
      const items = (jsonForm(args) ?? instruction.words).map(word).filter(Boolean);
      return setting({ keyword, items }, `VOLUME ${JSON.stringify(items)}`);
    }
    case 'CMD': return setting({ keyword, argv: commandOf(args, config) }, `CMD ${JSON.stringify(commandOf(args, config))}`);
    case 'ENTRYPOINT': {
      const argv = commandOf(args, config);
      return {
        text: `ENTRYPOINT ${JSON.stringify(argv)}`,
        apply: (target) => {
          applySetting(target, { keyword, argv });
          // Docker's rule: a CMD the base image gave was meant for its own ENTRYPOINT, so a new one drops it.
          if (!cmdSetInStage) target.Cmd = null;
        },
      };
    }
    case 'SHELL': {
      const shell = jsonForm(args);
      if (!shell || shell.length === 0) throw buildError(dockerfile, instruction, 'SHELL takes a JSON array', 'write SHELL ["/bin/bash", "-c"]');
      return { text: `SHELL ${JSON.stringify(shell)}`, apply: (target) => { target.Shell = shell; } };
    }
    case 'MAINTAINER':
      return { text: `MAINTAINER ${args.trim()}`, apply: () => {}, author: args.trim() };
    case 'HEALTHCHECK': {
      const check = healthcheck(dockerfile, instruction);
      const flags = instruction.flags.map((flag) => `--${flag.name}=${flag.value} `).join('');
      return { text: `HEALTHCHECK ${flags}${args.trim()}`, apply: (target) => { target.Healthcheck = check; } };
    }
    case 'ONBUILD': {
      // Recorded as written, variables and all: they are replaced in the build that runs it, with that build's values.
      const trigger = args.trim();
      return { text: `ONBUILD ${trigger}`, apply: (target) => { target.OnBuild = [...(target.OnBuild ?? []), trigger]; } };
    }
  }
  throw buildError(dockerfile, instruction, `${keyword} does not change settings`);
}
// #endregion

// #region healthcheck
/** HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N] CMD COMMAND, or
 *  HEALTHCHECK NONE, as Docker records it: the shell form as ["CMD-SHELL", text] (whatever SHELL says: the
 *  container's shell runs it), the exec form as ["CMD", argv…], the times in nanoseconds. */
function healthcheck(dockerfile: Dockerfile, instruction: Instruction): HealthConfig {
  const text = instruction.args.trim();
  const kind = text.split(/\s/, 1)[0]!;
  const command = text.slice(kind.length).trim();
  if (kind.toUpperCase() === 'NONE') {
    if (command !== '' || instruction.flags.length > 0) throw buildError(dockerfile, instruction, 'HEALTHCHECK NONE takes no arguments and no flags');
    return { Test: ['NONE'] };
  }
  if (kind.toUpperCase() !== 'CMD') throw buildError(dockerfile, instruction, `unknown type "${kind}" in HEALTHCHECK`, 'write HEALTHCHECK CMD COMMAND, or HEALTHCHECK NONE');
  if (command === '') throw buildError(dockerfile, instruction, 'HEALTHCHECK CMD needs a command');
  const exec = jsonForm(command);
  const check: HealthConfig = { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', command] };
  const times = { 'interval': 'Interval', 'timeout': 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const;
  for (const [flag, field] of Object.entries(times)) {
    const value = flagValue(instruction, flag);
    if (value === undefined) continue;
    const nanoseconds = goDuration(value);
    if (nanoseconds === undefined) throw buildError(dockerfile, instruction, `invalid --${flag}=${value}`, 'give a duration, as in 30s, 1m30s or 500ms');
    // 0 is Docker's "the default"; anything else must be at least a millisecond.
    if (nanoseconds > 0 && nanoseconds < 1e6) throw buildError(dockerfile, instruction, `--${flag} cannot be less than 1ms`);
    if (nanoseconds > 0) check[field] = nanoseconds;
  }
  const retries = flagValue(instruction, 'retries');
  if (retries !== undefined && !/^\d+$/.test(retries)) throw buildError(dockerfile, instruction, `invalid --retries=${retries}`, 'give a whole number, 0 or more');
  if (retries !== undefined && Number(retries) > 0) check.Retries = Number(retries);
  return check;
}
// #endregion

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A duration as Go's time.ParseDuration reads it (Docker's flags are Go's): "1m30s", "1.5s", "500ms", "0". */
export function goDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  return Math.round(parts.reduce((sum, part) => sum + Number(part[1]) * DURATION_UNITS[part[2]!]!, 0));
}

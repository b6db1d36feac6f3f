// The instructions that change only an image's settings (ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, CMD,
// ENTRYPOINT, STOPSIGNAL, SHELL, MAINTAINER): each read into the change it makes, applied by the same
// applySetting that `tsrun commit -c` uses. Each makes an image with one more history entry and no layer
// (but WORKDIR, which also makes its directory when the image has none: build.ts).
import path from 'node:path';
import type { ContainerConfig } from '../image/oci.js';
import { applySetting, type Setting } from '../image/changes.js';
import { buildError, jsonForm, type Dockerfile, type Instruction } from './dockerfile.js';
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

export const SETTINGS_KEYWORDS = ['ENV', 'WORKDIR', 'USER', 'LABEL', 'EXPOSE', 'VOLUME', 'CMD', 'ENTRYPOINT', 'STOPSIGNAL', 'SHELL', 'MAINTAINER'];

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The shell form as Docker runs it: the image's SHELL (by default /bin/sh -c) with the text as one argument;
 *  the exec form (a JSON array) as it is. */
export function commandOf(args: string, config: ContainerConfig): string[] {
  return jsonForm(args) ?? [...(config.Shell ?? DEFAULT_SHELL), args];
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
  }
  throw buildError(dockerfile, instruction, `${keyword} does not change settings`);
}
// #endregion

// `tsrun commit -c 'CMD ["sh"]'`: Dockerfile instructions that change an
// image's settings without adding files. Parsed by dockerfile-ast (the parser
// behind VS Code's Dockerfile support) rather than by hand: Dockerfile quoting,
// JSON and shell forms, and `KEY=VALUE` lists have more corners than they seem.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { fail } from '../errors.js';
import type { ContainerConfig } from './oci.js';

/** What docker commit accepts in --change. */
const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];

// #region changes
/** The image's container settings with each instruction applied, in order. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const result: ContainerConfig = { ...config };
  for (const change of changes) {
    const instructions = DockerfileParser.parse(change).getInstructions();
    if (instructions.length !== 1) throw fail(`invalid change "${change}": give one Dockerfile instruction per -c`, 'e.g. -c \'CMD ["sh"]\'');
    apply(result, instructions[0]!, change);
  }
  return result;
}
// #endregion

function apply(config: ContainerConfig, instruction: Instruction, change: string): void {
  const keyword = instruction.getKeyword();
  const text = instruction.getArgumentsContent() ?? '';
  if (!SUPPORTED.includes(keyword)) throw fail(`tsrun commit cannot apply ${keyword}`, `use one of ${SUPPORTED.join(', ')}`);
  if (text.trim() === '') throw fail(`invalid change "${change}": ${keyword} needs arguments`);
  switch (keyword) {
    case 'CMD': case 'ENTRYPOINT': return applySetting(config, { keyword, argv: commandForm(text) });
    case 'ENV': case 'LABEL': return applySetting(config, { keyword, pairs: properties(instruction) });
    case 'EXPOSE': return applySetting(config, { keyword, items: text.trim().split(/\s+/) });
    case 'VOLUME': return applySetting(config, { keyword, items: text.trim().startsWith('[') ? jsonArray(text) : text.trim().split(/\s+/) });
    case 'USER': case 'WORKDIR': case 'STOPSIGNAL': return applySetting(config, { keyword, value: text.trim() });
  }
}

/** One instruction's change to the settings, its arguments already read: by `tsrun commit -c` above, by
 *  `tsrun build` from a Dockerfile (with its variables replaced and SHELL applied). */
export type Setting =
  | { keyword: 'CMD' | 'ENTRYPOINT'; argv: string[] }
  | { keyword: 'ENV' | 'LABEL'; pairs: Array<[string, string]> }
  | { keyword: 'EXPOSE' | 'VOLUME'; items: string[] }
  | { keyword: 'USER' | 'WORKDIR' | 'STOPSIGNAL'; value: string };

// #region apply-setting
/** `config` changed by `setting`, in place. */
export function applySetting(config: ContainerConfig, setting: Setting): void {
  switch (setting.keyword) {
    case 'CMD': config.Cmd = setting.argv; break;
    case 'ENTRYPOINT': config.Entrypoint = setting.argv; break;
    case 'ENV': {
      const env = new Map((config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry]));
      for (const [key, value] of setting.pairs) env.set(key, `${key}=${value}`);
      config.Env = [...env.values()];
      break;
    }
    case 'LABEL': config.Labels = { ...config.Labels, ...Object.fromEntries(setting.pairs) }; break;
    case 'EXPOSE': {
      const ports = { ...config.ExposedPorts };
      for (const port of setting.items) ports[port.includes('/') ? port : `${port}/tcp`] = {};
      config.ExposedPorts = ports;
      break;
    }
    case 'VOLUME': {
      const volumes = { ...config.Volumes };
      for (const dir of setting.items) volumes[dir] = {};
      config.Volumes = volumes;
      break;
    }
    case 'USER': config.User = setting.value; break;
    case 'WORKDIR': config.WorkingDir = setting.value; break;
    case 'STOPSIGNAL': config.StopSignal = setting.value; break;
  }
}
// #endregion

/** The exec form, ["sh", "-c", "…"], as it is; the shell form, as Docker runs it: /bin/sh -c "…". */
function commandForm(text: string): string[] {
  return text.trim().startsWith('[') ? jsonArray(text) : ['/bin/sh', '-c', text.trim()];
}

function jsonArray(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail(`invalid JSON in "${text}"`, 'write it as ["program", "argument"], with double quotes');
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw fail(`"${text}" is not a list of strings`);
  return value;
}

function properties(instruction: Instruction): Array<[string, string]> {
  const withProperties = instruction as Instruction & { getProperties?: () => Array<{ getName(): string; getValue(): string | null }> };
  return (withProperties.getProperties?.() ?? []).map((property) => [property.getName(), property.getValue() ?? '']);
}

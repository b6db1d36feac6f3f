// What `-v`, `--mount` and `--tmpfs` ask for, read as docker reads them:
//
//   -v /host/dir:/data[:ro]        bind: a host directory (or file) at /data
//   -v cache:/data[:ro]            volume: tsrun's named volume "cache", made on first use
//   -v /data                       volume: an anonymous one, removed with a --rm container
//   --mount type=bind,source=/host/dir,target=/data,readonly
//   --mount type=volume,source=cache,target=/data
//   --mount type=tmpfs,target=/scratch,tmpfs-size=64m
//   --tmpfs /scratch[:size=64m,mode=1777,ro,exec,suid,dev]
//
// A tmpfs is noexec, nosuid and nodev unless its flag says exec, suid or dev, as with docker.
import { fail } from '../errors.js';
import { parseBytes } from '../cgroups/limits.js';
import type { MountSpec, TmpfsAllow } from '../container.js';

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const VOLUME_NAME_HINT = 'a name of letters, digits, "_", "." and "-"';

// #region parse-volume
/** One -v: SOURCE:TARGET[:OPTIONS] or just TARGET. A source with a "/" is a host path, anything else a volume's name. */
export function parseVolumeFlag(text: string): MountSpec {
  const parts = text.split(':');
  if (parts.length === 1) return { type: 'volume', source: '', target: containerPath(parts[0]!, text), readOnly: false };
  if (parts.length > 3) throw fail(`invalid volume specification ${JSON.stringify(text)}`, 'write it as SOURCE:TARGET[:ro]');
  const [source, target, options = ''] = parts as [string, string, string?];
  const readOnly = accessMode(options, text);
  if (source.startsWith('/')) return { type: 'bind', source, target: containerPath(target, text), readOnly };
  if (source.includes('/') || !VOLUME_NAME.test(source)) {
    throw fail(`invalid volume specification ${JSON.stringify(text)}: ${JSON.stringify(source)} is neither an absolute host path nor a volume name`, `give a host path starting with / or ${VOLUME_NAME_HINT}`);
  }
  return { type: 'volume', source, target: containerPath(target, text), readOnly };
}
// #endregion

/** One --mount: comma-separated key=value pairs. */
export function parseMountFlag(text: string): MountSpec {
  const fields = new Map<string, string>();
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    fields.set(eq < 0 ? field : field.slice(0, eq), eq < 0 ? 'true' : field.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw fail(`invalid --mount ${JSON.stringify(text)}: type must be bind, volume or tmpfs`);
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst');
  if (!target) throw fail(`invalid --mount ${JSON.stringify(text)}: target is missing`, 'add target=/path/in/container');
  const readOnly = ['readonly', 'ro'].some((key) => fields.has(key) && fields.get(key) !== 'false');
  const source = fields.get('source') ?? fields.get('src') ?? '';
  if (type === 'bind' && !source.startsWith('/')) throw fail(`invalid --mount ${JSON.stringify(text)}: a bind mount needs an absolute source path`);
  if (type === 'volume' && source !== '' && !VOLUME_NAME.test(source)) {
    throw fail(`invalid --mount ${JSON.stringify(text)}: ${JSON.stringify(source)} is not a volume name`, `give ${VOLUME_NAME_HINT}`);
  }
  if (type === 'tmpfs') return tmpfsSpec(containerPath(target, text), fields.get('tmpfs-size'), fields.get('tmpfs-mode'), readOnly);
  return { type, source, target: containerPath(target, text), readOnly };
}

/** One --tmpfs: TARGET[:OPTIONS], docker's options: size=, mode=, ro|rw, [no]exec, [no]suid, [no]dev;
 *  where an option is given twice, the last one counts. */
export function parseTmpfsFlag(text: string): MountSpec {
  const [target, options = ''] = text.split(/:(.*)/s) as [string, string?];
  const values = new Map<string, string>();
  const allow = new Set<TmpfsAllow>();
  let readOnly = false;
  for (const option of options.split(',').filter(Boolean)) {
    const [key, value] = option.split(/=(.*)/s) as [string, string?];
    if (value !== undefined && (key === 'size' || key === 'mode')) values.set(key, value);
    else if (option === 'ro' || option === 'rw') readOnly = option === 'ro';
    else if (option === 'exec' || option === 'suid' || option === 'dev') allow.add(option);
    else if (option === 'noexec' || option === 'nosuid' || option === 'nodev') allow.delete(option.slice(2) as TmpfsAllow);
    else throw fail(`invalid --tmpfs ${JSON.stringify(text)}: unknown option ${JSON.stringify(option)}`, 'use size=, mode=, ro, rw, exec, noexec, suid, nosuid, dev or nodev');
  }
  const spec = tmpfsSpec(containerPath(target, text), values.get('size'), values.get('mode'), readOnly);
  return allow.size === 0 ? spec : { ...spec, allow: [...allow] };
}

function tmpfsSpec(target: string, size: string | undefined, mode: string | undefined, readOnly: boolean): MountSpec {
  if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw fail(`invalid tmpfs mode ${JSON.stringify(mode)}`, 'give it in octal, e.g. 1777');
  const options = [`mode=${mode ?? '1777'}`, ...(size === undefined ? [] : [`size=${parseBytes('tmpfs size', size)}`])].join(',');
  return { type: 'tmpfs', source: '', target, readOnly, options };
}

function containerPath(target: string, text: string): string {
  if (!target.startsWith('/')) throw fail(`invalid mount ${JSON.stringify(text)}: the path in the container must be absolute`, 'start it with /');
  const parts = target.split('/').filter(Boolean);
  if (parts.includes('..')) throw fail(`invalid mount ${JSON.stringify(text)}: the path in the container may not contain ".."`);
  if (parts.length === 0) throw fail(`invalid mount ${JSON.stringify(text)}: cannot mount over the container's root`, 'choose a directory inside it');
  return '/' + parts.join('/');
}

function accessMode(options: string, text: string): boolean {
  const modes = options.split(',').filter(Boolean);
  for (const mode of modes) if (mode !== 'ro' && mode !== 'rw') throw fail(`invalid volume specification ${JSON.stringify(text)}: unknown option ${JSON.stringify(mode)}`, 'use ro or rw');
  return modes.includes('ro');
}

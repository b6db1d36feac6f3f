// Containers on disk: <root>/containers/<id>/config.json holds the record,
// state.json its changing state (written atomically at every transition).
import fs from 'node:fs';
import path from 'node:path';
import { VALID_NAME, type ContainerRecord, type ContainerState, type NetworkEndpoint } from '../container.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail, hasErrorCode } from '../errors.js';
import { generateName } from './names.js';
import { containerDir, containerRunDir, lockPath, type StorePaths } from './paths.js';
import { jsonText, readJson, writeFilesAtomic, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';

type StoredConfig = Omit<ContainerRecord, 'state'>;

const configFile = (paths: StorePaths, id: string) => path.join(containerDir(paths, id), 'config.json');
const stateFile = (paths: StorePaths, id: string) => path.join(containerDir(paths, id), 'state.json');

/** Record a new container, refusing a name that is already taken (the check and the write share one lock).
 *  Without a name, it gets one no other container has, chosen under the same lock: twenty `run`s started at
 *  once would otherwise pick from the same list of free names, and some the same one. The record as kept. */
export async function addContainer(sys: Syscalls, paths: StorePaths, unnamed: Omit<ContainerRecord, 'name'> & { name?: string }): Promise<ContainerRecord> {
  return withLock(sys, lockPath(paths), () => {
    const all = listContainers(paths);
    const record = { ...unnamed, name: unnamed.name ?? generateName(new Set(all.map((other) => other.name))) };
    const holder = all.find((other) => other.name === record.name);
    if (holder) {
      throw fail(
        `the container name "/${record.name}" is already in use by container "${holder.id}"`,
        'remove (or rename) that container to be able to reuse that name',
      );
    }
    const { state, ...config } = record;
    try {
      fs.mkdirSync(containerDir(paths, record.id), { recursive: true, mode: 0o700 });
      writeFilesAtomic([
        { file: stateFile(paths, record.id), data: jsonText(state) },
        { file: configFile(paths, record.id), data: jsonText(config) }, // renamed last: its presence means "the container exists"
      ]);
    } catch (error) {
      fs.rmSync(containerDir(paths, record.id), { recursive: true, force: true }); // a full disk leaves no half-made container
      throw error;
    }
    return record;
  });
}

/** `tsrun rename`: a new name, refused when taken or malformed (under the same lock as addContainer). */
export async function renameContainer(sys: Syscalls, paths: StorePaths, nameOrId: string, newName: string): Promise<void> {
  if (!VALID_NAME.test(newName)) throw fail(`invalid container name "${newName}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
  await withLock(sys, lockPath(paths), () => {
    const container = getContainer(paths, nameOrId);
    const holder = listContainers(paths).find((other) => other.name === newName);
    if (holder) throw fail(`the container name "/${newName}" is already in use by container "${holder.id}"`, 'choose another name');
    const { state: _state, ...config } = container;
    writeJsonAtomic(configFile(paths, container.id), { ...config, name: newName });
  });
}

/** `tsrun network connect` / `disconnect`: the networks the container is on, as `change` makes them from its record
 *  read again under the lock (two connects at once both count). */
export async function saveNetworks(sys: Syscalls, paths: StorePaths, id: string, change: (container: ContainerRecord) => NetworkEndpoint[]): Promise<void> {
  await withLock(sys, lockPath(paths), () => {
    if (!fs.existsSync(configFile(paths, id))) return; // removed meanwhile
    const { state, ...config } = readContainer(paths, id);
    writeJsonAtomic(configFile(paths, id), { ...config, config: { ...config.config, networks: change({ ...config, state }) } });
  });
}

/** The state as it is on disk now; undefined if the container was removed meanwhile. */
export function readState(paths: StorePaths, id: string): ContainerState | undefined {
  try {
    return readJson<ContainerState>(stateFile(paths, id));
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

export function saveState(paths: StorePaths, id: string, state: ContainerState): void {
  // A container removed meanwhile (`tsrun rm -f`) stays removed.
  if (!fs.existsSync(configFile(paths, id))) return;
  writeJsonAtomic(stateFile(paths, id), state);
}

export function listContainers(paths: StorePaths): ContainerRecord[] {
  const dir = path.join(paths.root, 'containers');
  if (!fs.existsSync(dir)) return [];
  const records: ContainerRecord[] = [];
  for (const id of fs.readdirSync(dir)) {
    if (!fs.existsSync(configFile(paths, id))) continue; // being created or removed
    records.push(readContainer(paths, id));
  }
  // Newest first. ISO 8601 times sort as plain strings; localeCompare would start ICU's collator, which is slow to load.
  return records.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

function readContainer(paths: StorePaths, id: string): ContainerRecord {
  const config = readJson<StoredConfig>(configFile(paths, id));
  return { ...config, state: readJson<ContainerState>(stateFile(paths, id)) };
}

/** Find a container by name, full id or unambiguous id prefix, as docker does. */
export function findContainer(paths: StorePaths, nameOrId: string): ContainerRecord | undefined {
  const all = listContainers(paths);
  const byName = all.find((c) => c.name === nameOrId.replace(/^\//, ''));
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(nameOrId)) return undefined;
  const matches = all.filter((c) => c.id.startsWith(nameOrId));
  if (matches.length > 1) {
    throw fail(`multiple containers found with id prefix ${nameOrId}`, 'give more characters of the id');
  }
  return matches[0];
}

export function getContainer(paths: StorePaths, nameOrId: string): ContainerRecord {
  const record = findContainer(paths, nameOrId);
  if (!record) throw fail(`no such container: ${nameOrId}`, 'see `tsrun ps -a` for the containers there are');
  return record;
}

/** Delete everything the container owns: its record, its rw layer and its run directory. */
export function deleteContainer(paths: StorePaths, id: string): void {
  // The record goes first, so a crash half-way leaves no half-listed container.
  fs.rmSync(configFile(paths, id), { force: true });
  fs.rmSync(containerRunDir(paths, id), { recursive: true, force: true });
  fs.rmSync(containerDir(paths, id), { recursive: true, force: true });
}

// HEAD, GET and PUT /containers/{id}/archive?path=P: what `docker cp` asks. The CLI does the copy's thinking
// itself (a directory or a file, "/." for the content, where to unpack); the daemon only answers three questions,
// with tsrun cp's own code (src/containers/archive.ts):
//
//   HEAD   what is at P?        the answer in a header, X-Docker-Container-Path-Stat: base64 of
//                               {"name","size","mode","mtime","linkTarget"}, mode being Go's os.FileMode
//   GET    give me P            a tar of it (the same header too: the CLI reads it to know a directory)
//   PUT    unpack this at P     a tar in the body; P must be a directory; noOverwriteDirNonDir=true, as the CLI
//                               always sends, refuses a file over a directory; copyUIDGID=true (cp -a) keeps
//                               the archive's owners, else everything is root's
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerRecord } from '../container.js';
import { archiveOf, extractToContainer, statPath, withContainerRoot, type PathStat } from '../containers/archive.js';
import { tarBytes } from '../image/tar-writer.js';
import { hasErrorCode } from '../errors.js';
import { lookUp } from './containers.js';
import { ApiError, badRequest, messageOf, queryFlag, sendEmpty, type DaemonRequest } from './http.js';

// #region archive-status
/** Docker's status for each refusal of a copy. */
const STATUS: Record<string, number> = { NOT_FOUND: 404, NOT_DIRECTORY: 400, READ_ONLY: 403, NOT_RUNNING: 409 };
// #endregion

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
const statHeader = (stat: PathStat) => Buffer.from(JSON.stringify(stat)).toString('base64');

/** HEAD /containers/{id}/archive?path=P */
export async function statArchive(request: DaemonRequest): Promise<void> {
  const { container, path } = await target(request);
  const stat = await docker(() => withContainerRoot(request.runtime, container, async (rootFd) => statPath(request.runtime, container, rootFd, path, request.params.id)));
  request.res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json' });
  request.res.end();
}

// #region get-archive
/** GET /containers/{id}/archive?path=P */
export async function getArchive(request: DaemonRequest): Promise<void> {
  const { runtime, res, params, events } = request;
  const { container, path } = await target(request);
  await docker(() => withContainerRoot(runtime, container, async (rootFd) => {
    const stat = statPath(runtime, container, rootFd, path, params.id);
    res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
    // Once the answer has begun, a failure can only cut it short (server.ts): the CLI reports a truncated tar.
    await pipeline(Readable.from(tarBytes(archiveOf(runtime, rootFd, path))), res);
  }));
  events.container('archive-path', container, { path });
}
// #endregion

/** PUT /containers/{id}/archive?path=P&noOverwriteDirNonDir=…&copyUIDGID=… */
export async function putArchive(request: DaemonRequest): Promise<void> {
  const { runtime, req, res, query, params, events } = request;
  const { container, path } = await target(request);
  const options = { noOverwriteDirNonDir: queryFlag(query, 'noOverwriteDirNonDir'), copyUidGid: queryFlag(query, 'copyUIDGID') };
  await docker(() => withContainerRoot(runtime, container, (rootFd) => extractToContainer(runtime, container, rootFd, path, req, options, params.id)));
  events.container('extract-to-dir', container, { path });
  sendEmpty(res, 200);
}

async function target(request: DaemonRequest): Promise<{ container: ContainerRecord; path: string }> {
  const path = request.query.get('path');
  if (!path) throw badRequest('path is required');
  return { container: await lookUp(request), path };
}

/** The work, its refusals answered with Docker's status (the rest is the daemon's failure, 500). */
async function docker<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = Object.keys(STATUS).find((name) => hasErrorCode(error, name));
    throw code ? new ApiError(STATUS[code]!, messageOf(error)) : error;
  }
}

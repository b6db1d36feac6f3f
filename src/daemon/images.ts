// The images endpoints. POST /images/create?fromImage=REPOSITORY&tag=TAG: `docker pull`, and `docker run` of an
// image that is not here (after create answered 404). The pull is tsrun's own (src/run.ts pullImage, the first
// stage alone); what it tells as it goes is sent as Docker's progress messages, one JSON object a line, which the
// docker CLI draws. `docker push` is tsrun's push (src/registry/push.ts) told the same way; `docker save` and
// `docker load` move a docker-archive through the connection, made and read by what `tsrun save` and `tsrun load`
// call. The others (`docker images`, `image inspect`, `tag`, `rmi`, `image prune`, `history`) call what tsrun's
// commands of those names call, in src/store/.
import type http from 'node:http';
import { PassThrough, addAbortSignal } from 'node:stream';
import { pullImage } from '../run.js';
import { familiarString, parseReference } from '../image/reference.js';
import { LAYER_STATUS_TEXT, pullEventLines, type PullEvent } from '../registry/progress.js';
import { hasErrorCode } from '../errors.js';
import { findImage, imagesToList, pruneImages, removeImage, tagImage, type ImageRecord, type RemovedImage } from '../store/images.js';
import { historyRows } from '../store/history.js';
import { saveImages } from '../store/save.js';
import { loadArchive, loadedLines } from '../store/load.js';
import { pushImage, type PushEvent } from '../registry/push.js';
import { labelsMatch, referenceMatches } from '../docker/filters.js';
import { imageDocument } from '../containers/inspect.js';
import { registryAuth } from './registry-auth.js';
import { reconcileAll } from '../containers/reconcile.js';
import {
  asBadRequest, badRequest, danglingFilter, filtersIn, messageOf, notFound, queryFlag, sendEmpty, sendJson, writeJsonLine, type DaemonRequest,
} from './http.js';

// #region pull
export async function pull({ runtime, req, query, res, events }: DaemonRequest): Promise<void> {
  if (query.get('fromSrc')) throw badRequest('tsrun cannot import an image from a tarball through its daemon yet: use `tsrun load`');
  const repository = query.get('fromImage');
  if (!repository) throw badRequest('fromImage is missing');
  const tag = query.get('tag');
  const text = !tag ? repository : tag.startsWith('sha256:') ? `${repository}@${tag}` : `${repository}:${tag}`;
  let reference;
  try {
    reference = parseReference(text);
  } catch (error) {
    throw badRequest(messageOf(error));
  }
  const credentials = registryAuth(req.headers['x-registry-auth']);
  // The first line waits for the second: until the registry has answered for the manifest, a failure (no such
  // image) is still a plain error answer, as dockerd gives it, rather than a line in a stream already begun.
  let held: PullEvent | undefined;
  const progress = (event: PullEvent) => {
    if (!res.headersSent && event.type === 'start') {
      held = event;
      return;
    }
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (held) send(res, held);
    }
    send(res, event);
  };
  try {
    await pullImage(runtime, reference.canonical, { policy: 'always', platform: query.get('platform') || undefined, progress, credentials });
    events.emit('image', 'pull', familiarString(reference), { name: reference.familiar });
  } catch (error) {
    // Not begun: a plain error; 404 when the registry has no such image, which `docker run` reports and exits 125.
    if (!res.headersSent) throw ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN'].some((code) => hasErrorCode(error, code)) ? notFound(messageOf(error)) : error;
    // Begun already: the error is the stream's last line, which the CLI prints before it exits 1.
    writeJsonLine(res, errorMessage(error));
  }
  res.end();
}
// #endregion

/** One event as dockerd's progress messages: {"status": …, "id": LAYER, "progressDetail": …}. */
function send(res: http.ServerResponse, event: PullEvent): void {
  switch (event.type) {
    case 'start': return writeJsonLine(res, { status: `Pulling from ${event.repository}`, id: event.tagOrDigest });
    case 'layer': return writeJsonLine(res, { status: LAYER_STATUS_TEXT[event.status], progressDetail: {}, id: event.layer });
    // The CLI draws the bar from the numbers.
    case 'bytes': return writeJsonLine(res, { status: 'Downloading', progressDetail: { current: event.received, total: event.total }, id: event.layer });
    default: for (const line of pullEventLines(event)) writeJsonLine(res, { status: line });
  }
}

// #region push
/** POST /images/{name}/push?tag=TAG: `docker push`, as tsrun push does it, with the credentials the CLI sends in
 *  X-Registry-Auth. An image not here is a plain 404; once the push has begun, what goes wrong (the registry
 *  refuses the credentials, or cannot be reached) is the stream's last line, which the CLI prints and exits 1 on. */
export async function push({ runtime, req, params, query, res, events }: DaemonRequest): Promise<void> {
  const tagText = query.get('tag');
  // Without a tag (`docker push --all-tags`), dockerd pushes every tag of the repository.
  if (!tagText) throw badRequest('tsrun\'s daemon pushes one tag at a time: name it (docker push NAME:TAG)');
  let reference;
  try {
    reference = parseReference(`${params.name!}:${tagText}`);
  } catch (error) {
    throw badRequest(messageOf(error));
  }
  if (!findImage(runtime.paths, reference.canonical)) throw notFound(`An image does not exist locally with the tag: ${reference.familiar}`);
  const credentials = registryAuth(req.headers['x-registry-auth']);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  try {
    const pushed = await pushImage(runtime.sys, runtime.paths, reference, { credentials, progress: (event) => writeJsonLine(res, pushMessage(event)) });
    // What the CLI reads the digest from (`docker push` with content trust signs it).
    writeJsonLine(res, { progressDetail: {}, aux: { Tag: tagText, Digest: pushed.digest, Size: pushed.size } });
    events.emit('image', 'push', familiarString(reference), { name: reference.familiar });
  } catch (error) {
    writeJsonLine(res, errorMessage(error));
  }
  res.end();
}
// #endregion

/** A push's event as dockerd's progress message: {"status": …, "id": LAYER, "progressDetail": …}. */
export function pushMessage(event: PushEvent): object {
  switch (event.type) {
    case 'start': return { status: `The push refers to repository [${event.repository}]` };
    case 'layer': return { status: event.status, progressDetail: {}, id: event.layer };
    // The CLI draws the bar from the numbers, on a terminal only.
    case 'bytes': return { status: 'Pushing', progressDetail: { current: event.sent, total: event.total }, id: event.layer };
    case 'done': return { status: `${event.tag}: digest: ${event.digest} size: ${event.size}` };
  }
}

// #region save-load
/** GET /images/{name}/get, or GET /images/get?names=A&names=B (what the CLI sends): `docker save`, the docker-archive
 *  `tsrun save` writes, sent as it is made. Every name is looked up first: one not here is a 404 before any of the
 *  tar, which the CLI prints; a failure later cuts the stream short (server.ts), and `docker save -o` keeps no
 *  half file. */
export async function save(request: DaemonRequest): Promise<void> {
  const { runtime, params, query, res, events } = request;
  const names = params.name !== undefined ? [params.name] : query.getAll('names');
  if (names.length === 0) throw badRequest('names is missing');
  const images = [];
  for (const name of names) images.push(await lookUp(request, name));
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await saveImages(runtime.paths, names, res);
  for (const id of new Set(images.map((image) => image.id))) events.emit('image', 'save', id, { name: id });
}

/** POST /images/load[?quiet=1]: `docker load`, the tar in the body, read as `tsrun load` reads a file. dockerd
 *  answers 200 whatever happens, and tells in the stream what it loaded, a line a name ({"stream": "Loaded image:
 *  busybox:latest\n"}), or the error, which the CLI prints and exits 1 on. */
export async function load({ runtime, req, res, events, signal }: DaemonRequest): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  // Read through a stream of its own: a damaged archive stops the reading, and closing the request itself would
  // close the connection before the error is told. A pipe does not pass on the client's going away mid-archive:
  // the signal does, or the load would wait for the rest for ever.
  const body = addAbortSignal(signal, req.pipe(new PassThrough()));
  try {
    const images = await loadArchive(runtime.sys, runtime.paths, body);
    for (const image of images) events.emit('image', 'load', image.id, { name: image.id });
    for (const line of loadedLines(images)) writeJsonLine(res, { stream: `${line}\n` });
  } catch (error) {
    req.unpipe(body).resume(); // the rest of the body, read and dropped: the connection can take another request
    writeJsonLine(res, errorMessage(error));
  }
  res.end();
}
// #endregion

/** An error as the last message of a stream: the CLI prints it and exits 1. */
function errorMessage(error: unknown): object {
  return { errorDetail: { message: messageOf(error) }, error: messageOf(error) };
}

/** GET /images/json[?all=1][&filters=…]: `docker images` splits RepoTags into REPOSITORY and TAG; none is a <none>
 *  row. `docker images NAME` sends a reference filter: then only the names it matches are listed, as dockerd does;
 *  label= matches the image's own labels (its config's). */
export async function list({ runtime, query, res }: DaemonRequest): Promise<void> {
  const filters = filtersIn(query, 'images', ['reference', 'dangling', 'label'], ['reference', 'dangling', 'label', 'before', 'since']);
  const patterns = filters.reference ?? [];
  const dangling = danglingFilter(filters);
  const matching = (names: string[]) => names.filter((name) => patterns.some((pattern) => referenceMatches(pattern, parseReference(name))));
  const listed = imagesToList(runtime.paths, queryFlag(query, 'all')).flatMap((image) => {
    if (dangling !== undefined && dangling !== (image.repoTags.length === 0)) return [];
    if (!labelsMatch(filters.label ?? [], image.config.config?.Labels ?? {})) return [];
    if (patterns.length === 0) return [{ image, tags: image.repoTags, digests: image.repoDigests }];
    const [tags, digests] = [matching(image.repoTags), matching(image.repoDigests)];
    return tags.length + digests.length > 0 ? [{ image, tags, digests }] : [];
  });
  sendJson(res, 200, listed.map(({ image, tags, digests }) => imageSummary(image, tags, digests)));
}

/** An image as /images/json lists it (and /system/df, with what it counts there); -1: not counted, as dockerd
 *  answers unless asked. */
export function imageSummary(image: ImageRecord, tags = image.repoTags, digests = image.repoDigests, counted = { Containers: -1, SharedSize: -1 }): object {
  return {
    Containers: counted.Containers,
    Created: unixSeconds(image.created),
    Id: image.id,
    Labels: image.config.config?.Labels ?? null,
    ParentId: image.parent ?? '',
    RepoDigests: digests.map(familiar),
    RepoTags: tags.map(familiar),
    SharedSize: counted.SharedSize,
    Size: image.size,
    VirtualSize: image.size,
  };
}

/** GET /images/{name}/json: `tsrun inspect`'s document of an image; a 404 moves an untyped `docker inspect` on. */
export async function inspect(request: DaemonRequest): Promise<void> {
  sendJson(request.res, 200, imageDocument(request.runtime, await lookUp(request)));
}

/** POST /images/{name}/tag?repo=REPOSITORY&tag=TAG: 201 with no body, as `tsrun tag` does it. */
export async function tag(request: DaemonRequest): Promise<void> {
  const { runtime, params, query } = request;
  const repo = query.get('repo');
  if (!repo) throw badRequest('repo is missing');
  const image = await lookUp(request);
  const tagText = query.get('tag');
  const name = tagText ? `${repo}:${tagText}` : repo;
  await asBadRequest(() => tagImage(runtime.sys, runtime.paths, params.name!, name));
  request.events.emit('image', 'tag', image.id, { name: familiar(name) });
  sendEmpty(request.res, 201);
}

// #region rmi
/** DELETE /images/{name}[?force=1]: `tsrun rmi`'s removal: the names taken off, then, with none left, the image
 *  and the layers no other image has. A container using it is dockerd's 409, in its words. */
export async function remove(request: DaemonRequest): Promise<void> {
  const { runtime, params, query, res } = request;
  const image = await lookUp(request);
  await reconcileAll(runtime); // a container whose process has gone no longer holds the image as a running one
  const removed = await asBadRequest(() => removeImage(runtime.sys, runtime.paths, params.name!, { force: queryFlag(query, 'force') }), 409);
  tellRemoval(request, image.id, removed);
  sendJson(res, 200, removalLines(removed));
}
// #endregion

/** POST /images/prune?filters={"dangling":{"false":true}}: the images without a name that no container uses; with
 *  dangling=false (`docker image prune -a`), every image no container uses. */
export async function prune(request: DaemonRequest): Promise<void> {
  const { runtime, query, res } = request;
  const filters = filtersIn(query, 'images', ['dangling'], ['dangling', 'label', 'label!', 'until']);
  await reconcileAll(runtime);
  const { removed, bytes } = await pruneImages(runtime.sys, runtime.paths, { all: !(danglingFilter(filters) ?? true) });
  for (const image of removed) tellRemoval(request, image.deleted[0] ?? '', image);
  sendJson(res, 200, { ImagesDeleted: removed.flatMap(removalLines), SpaceReclaimed: bytes });
}

/** GET /images/{name}/history: `tsrun history`'s rows, newest first; an entry made elsewhere has no image here. */
export async function history(request: DaemonRequest): Promise<void> {
  const { paths } = request.runtime;
  const rows = historyRows(await lookUp(request), (id) => findImage(paths, id));
  sendJson(request.res, 200, rows.map((row) => {
    const made = row.id === undefined ? undefined : findImage(paths, row.id);
    return {
      Id: row.id ?? '<missing>',
      Created: row.created ? unixSeconds(row.created) : 0,
      CreatedBy: row.createdBy,
      Tags: made && made.repoTags.length > 0 ? made.repoTags.map(familiar) : null,
      Size: row.size,
      Comment: row.comment,
    };
  }));
}

/** The image the path names ({name}: a name, slashes and all, or an id or a prefix of one), or `name`; Docker's 404
 *  if none. */
async function lookUp({ runtime, params }: DaemonRequest, name = params.name!): Promise<ImageRecord> {
  const image = await asBadRequest(() => findImage(runtime.paths, name)); // an ambiguous prefix
  if (!image) throw notFound(`No such image: ${familiar(name)}`);
  return image;
}

/** An untag event for each name taken off, and a delete if the image went (its layers are no events), as
 *  dockerd tells a removal. */
function tellRemoval({ events }: DaemonRequest, imageId: string, removed: RemovedImage): void {
  for (const name of removed.untagged) events.emit('image', 'untag', imageId, { name: familiar(name) });
  if (removed.deleted.includes(imageId)) events.emit('image', 'delete', imageId, { name: imageId });
}

/** What `docker rmi` and `docker image prune` print, a line each: [{"Untagged": NAME}, …, {"Deleted": ID}, …]. */
function removalLines(removed: RemovedImage): object[] {
  return [...removed.untagged.map((name) => ({ Untagged: familiar(name) })), ...removed.deleted.map((id) => ({ Deleted: id }))];
}

/** As docker writes a name (docker.io/library/busybox:latest is busybox:latest, nosuch is nosuch:latest); what is
 *  no name stays as it is. */
function familiar(name: string): string {
  try {
    return familiarString(parseReference(name));
  } catch {
    return name;
  }
}

const unixSeconds = (time: string) => Math.floor(Date.parse(time) / 1000);

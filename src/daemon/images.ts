// POST /images/create?fromImage=REPOSITORY&tag=TAG: `docker pull`, and `docker run` of an image that is not here
// (after create answered 404). The pull is tsrun's own (src/run.ts pullImage, the first stage alone); what it tells
// as it goes is sent as Docker's progress messages, one JSON object a line, which the docker CLI draws.
import type http from 'node:http';
import { pullImage } from '../run.js';
import { parseReference } from '../image/reference.js';
import { LAYER_STATUS_TEXT, pullEventLines, type PullEvent } from '../registry/progress.js';
import { hasErrorCode } from '../errors.js';
import { badRequest, messageOf, notFound, type DaemonRequest } from './http.js';

// #region pull
export async function pull({ runtime, query, res }: DaemonRequest): Promise<void> {
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
    await pullImage(runtime, reference.canonical, { policy: 'always', platform: query.get('platform') || undefined, progress });
  } catch (error) {
    // Not begun: a plain error; 404 when the registry has no such image, which `docker run` reports and exits 125.
    if (!res.headersSent) throw ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN'].some((code) => hasErrorCode(error, code)) ? notFound(messageOf(error)) : error;
    // Begun already: the error is the stream's last line, which the CLI prints before it exits 1.
    writeLine(res, { errorDetail: { message: messageOf(error) }, error: messageOf(error) });
  }
  res.end();
}
// #endregion

/** One event as dockerd's progress messages: {"status": …, "id": LAYER, "progressDetail": …}. */
function send(res: http.ServerResponse, event: PullEvent): void {
  switch (event.type) {
    case 'start': return writeLine(res, { status: `Pulling from ${event.repository}`, id: event.tagOrDigest });
    case 'layer': return writeLine(res, { status: LAYER_STATUS_TEXT[event.status], progressDetail: {}, id: event.layer });
    // The CLI draws the bar from the numbers.
    case 'bytes': return writeLine(res, { status: 'Downloading', progressDetail: { current: event.received, total: event.total }, id: event.layer });
    default: for (const line of pullEventLines(event)) writeLine(res, { status: line });
  }
}

function writeLine(res: http.ServerResponse, message: object): void {
  res.write(JSON.stringify(message) + '\r\n');
}

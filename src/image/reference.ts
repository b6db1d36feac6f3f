// Image references as Docker reads them. The grammar (from distribution/reference):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path
//   domain     := host [ ":" port ]                 e.g. registry.example.com:5000, localhost, [::1]
//   path       := component ( "/" component )*      lowercase letters and digits, joined by . _ __ or -
//   tag        := [\w][\w.-]{0,127}
//   digest     := "sha256:" 64 hex digits
//
// and Docker's normalisation: a name without a domain lives on Docker Hub
// (docker.io), and a single-component Hub name is an official image under
// "library/". So "busybox" means "docker.io/library/busybox:latest".
import { fail } from '../errors.js';
import { withoutPassword } from '../trace/redact.js';

export interface ImageReference {
  /** "docker.io", "localhost:5000", … */
  domain: string;
  /** "library/busybox", "team/app", … */
  path: string;
  /** The tag; "latest" when the reference names neither a tag nor a digest. */
  tag?: string;
  /** "sha256:…" when the reference pins a digest. */
  digest?: string;
  /** domain/path: "docker.io/library/busybox". */
  name: string;
  /** The full form tsrun stores: "docker.io/library/busybox:latest" or "…@sha256:…". */
  canonical: string;
  /** The name as docker shows it: "busybox", "team/app", "localhost:5000/app". */
  familiar: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_MAX_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Any algorithm:hex digest, to tell "unsupported algorithm" from "not a digest". */
const ANY_DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** A bare 64-hex string is an image id, never a repository name. */
export const FULL_HEX_ID = /^[a-f0-9]{64}$/;

const HINT = 'write it as NAME[:TAG] or NAME@sha256:DIGEST, e.g. busybox, busybox:1.36 or registry.example.com:5000/team/app:v1';

/** Parse `text` the way `docker run`/`docker pull` do; throws a TsrunError saying what is wrong. */
export function parseReference(text: string): ImageReference {
  // An error is recorded in the trace, too: it repeats the reference without a password typed into it.
  // What it quotes is JSON-quoted, so that a line break typed into it keeps the message on one line.
  const invalid = (why: string) => fail(`invalid reference ${quoted(withoutPassword(text))}: ${why}`, HINT);
  if (text === '') throw invalid('it is empty');
  if (withoutPassword(text) !== text) throw invalid('a reference carries no password: log in with `tsrun login` instead');
  if (FULL_HEX_ID.test(text)) throw invalid('a 64-character hex string is an image id, not a repository name');

  // The digest comes after the only "@"; the tag after the last ":" that follows the last "/"
  // (an earlier ":" belongs to the registry's port, as in localhost:5000/app).
  const [nameAndTag, digest, ...extra] = text.split('@');
  if (extra.length > 0) throw invalid('it has more than one "@"');
  if (digest !== undefined && !SHA256_DIGEST.test(digest)) {
    throw invalid(ANY_DIGEST.test(digest)
      ? `only sha256 digests are supported, not ${quoted(digest.split(':')[0]!)}`
      : `${quoted(digest)} is not a digest (sha256: followed by 64 lowercase hex digits)`);
  }
  const tagColon = nameAndTag!.lastIndexOf(':');
  const hasTag = tagColon > nameAndTag!.lastIndexOf('/');
  const familiarName = hasTag ? nameAndTag!.slice(0, tagColon) : nameAndTag!;
  const tag = hasTag ? nameAndTag!.slice(tagColon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) {
    throw invalid(`${quoted(tag)} is not a valid tag (letters, digits, _ . and -, not starting with . or -, at most 128)`);
  }

  const { domain, path } = splitDomain(familiarName);
  if (path !== path.toLowerCase()) throw invalid(`repository name ${quoted(path)} must be lowercase`);
  // The grammar takes any digits for a port and any hex and colons for an IPv6 address; a pull connects
  // to http(s)://DOMAIN, so the URL parser must take it too (port 1-65535, a real IPv6 address).
  if (!DOMAIN.test(domain) || !URL.canParse(`http://${domain}`)) throw invalid(`${quoted(domain)} is not a valid registry host[:port]`);
  if (!PATH.test(path)) {
    throw invalid(`${quoted(path)} is not a valid repository name (lowercase letters and digits, separated by / . _ __ or -)`);
  }
  const name = `${domain}/${path}`;
  if (name.length > NAME_MAX_LENGTH) throw invalid(`the repository name is longer than ${NAME_MAX_LENGTH} characters`);

  return build(domain, path, digest === undefined ? tag ?? DEFAULT_TAG : tag, digest);
}

/** Parse a repository name alone (as `tsrun load --name` takes it): no tag, no digest. */
export function parseRepository(text: string): ImageReference {
  const lastComponent = text.slice(text.lastIndexOf('/') + 1);
  if (/[:@]/.test(lastComponent) || text.includes('@')) {
    throw fail(`${quoted(text)} is not a bare repository name`, 'give the repository without a tag or digest, e.g. myrepo or registry.example.com/team/app');
  }
  return parseReference(text);
}

/** The reference as docker prints it: "busybox:latest", "team/app@sha256:…". */
export function familiarString(reference: ImageReference): string {
  return reference.familiar + (reference.tag !== undefined ? `:${reference.tag}` : '') + (reference.digest !== undefined ? `@${reference.digest}` : '');
}

/** Docker's rule for "is the first component a registry?": it is if it looks like a host
 *  (has a "." or a ":", or is "localhost") or has capitals (repositories cannot). */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, path: OFFICIAL_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  const isDomain = first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase();
  if (!isDomain) return { domain: DEFAULT_DOMAIN, path: name };
  const domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
  const path = domain === DEFAULT_DOMAIN && !rest.includes('/') ? OFFICIAL_PREFIX + rest : rest;
  return { domain, path };
}

const quoted = (text: string) => JSON.stringify(text);

function build(domain: string, path: string, tag: string | undefined, digest: string | undefined): ImageReference {
  const name = `${domain}/${path}`;
  const canonical = name + (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
  return { domain, path, tag, digest, name, canonical, familiar: familiarName(domain, path) };
}

/** Docker Hub names lose "docker.io/", and official images their "library/". */
function familiarName(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  const official = path.startsWith(OFFICIAL_PREFIX) ? path.slice(OFFICIAL_PREFIX.length) : path;
  return official.includes('/') ? path : official;
}

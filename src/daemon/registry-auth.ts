// Who the docker CLI is to a registry. `docker login` sends the user name and password to POST /auth, which
// only checks them with the registry: the CLI keeps them itself (in its config.json), and from then on sends
// them with each pull in the X-Registry-Auth header, base64 of {"username": …, "password": …,
// "serveraddress": …}; an anonymous client sends e30= ({}).
import { checkCredentials, registryDomain } from '../registry/login.js';
import type { Credentials } from '../registry/auth.js';
import { Fields } from './create-body.js';
import { ApiError, asBadRequest, badRequest, readJsonBody, sendJson, type DaemonRequest } from './http.js';

/** The credentials in an X-Registry-Auth header; undefined for none, or for {}. */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(header, 'base64').toString('utf8')); // Node reads the URL-safe alphabet too
  } catch {
    throw badRequest('X-Registry-Auth is not base64 of a JSON object');
  }
  return credentialsIn(new Fields(body, 'X-Registry-Auth'));
}

/** {"username", "password"}, or {"auth": base64 of "username:password"}; an identity token tsrun cannot use. */
function credentialsIn(fields: Fields): Credentials | undefined {
  if (fields.text('identitytoken') || fields.text('registrytoken')) throw badRequest('tsrun cannot log in to a registry with a token yet: give a user name and password');
  const auth = fields.text('auth');
  const pair = auth ? Buffer.from(auth, 'base64').toString('utf8') : undefined;
  if (pair !== undefined && !pair.includes(':')) throw badRequest(`${fields.path('auth')} is not base64 of "user:password"`);
  const [username, password] = pair !== undefined
    ? [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)]
    : [fields.text('username'), fields.text('password')];
  if (!username && !password) return undefined;
  if (!username || password === undefined) throw badRequest(`${fields.path('username')} and its password go together`);
  return { username, password };
}

// #region auth
/** POST /auth {"username", "password", "serveraddress"}: 200 {"Status": "Login Succeeded"} if the registry takes
 *  them; the registry's refusal is dockerd's 401, which `docker login` prints. */
export async function auth({ runtime, req, res }: DaemonRequest): Promise<void> {
  const body = new Fields(await readJsonBody(req), '');
  const credentials = credentialsIn(body);
  if (!credentials) throw badRequest('username is missing');
  const domain = await asBadRequest(() => registryDomain(body.text('serveraddress')));
  try {
    await checkCredentials(runtime.paths, domain, credentials);
  } catch (error) {
    throw new ApiError(401, `login to ${domain} failed: ${(error as Error).message}`);
  }
  sendJson(res, 200, { IdentityToken: '', Status: 'Login Succeeded' });
}
// #endregion

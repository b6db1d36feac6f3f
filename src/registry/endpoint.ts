// Where a registry named in a reference is reached, and how. "docker.io" is
// served at registry-1.docker.io, after the mirrors the config lists under
// "registry-mirrors", if any. HTTPS always, except for registries on this
// machine's loopback (a classroom registry) and those the config lists under
// "insecure-registries": those speak plain HTTP. A mirror says its own scheme.
import type { RegistryConfig } from './config.js';

export interface Endpoint {
  /** The registry as references name it: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** "https://registry-1.docker.io", "http://127.0.0.1:5000". */
  origin: string;
  host: string;
  port: number;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

/** Where to ask for an image of `domain`, in order: Docker Hub's mirrors first, then the registry itself. */
export function endpointsFor(domain: string, config: Pick<RegistryConfig, 'insecureRegistries' | 'registryMirrors'>): Endpoint[] {
  const mirrors = domain === DOCKER_HUB ? config.registryMirrors.map(mirrorEndpoint) : [];
  return [...mirrors, endpointFor(domain, config)];
}

function mirrorEndpoint(origin: string): Endpoint {
  const url = new URL(origin);
  return {
    domain: url.host,
    origin: url.origin,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
  };
}

export function endpointFor(domain: string, config: Pick<RegistryConfig, 'insecureRegistries'>): Endpoint {
  const hostAndPort = domain === DOCKER_HUB ? DOCKER_HUB_API : domain;
  const plain = isLoopback(new URL(`http://${hostAndPort}`).hostname) || config.insecureRegistries.includes(domain);
  const url = new URL(`${plain ? 'http' : 'https'}://${hostAndPort}`);
  return {
    domain,
    origin: url.origin,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || (plain ? 80 : 443)),
  };
}

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

// rtnetlink messages written out for people: the message type, then its fields as NAME=value, a veth's
// peer in braces. --explain shows the cable this way, and the tests read it.
import type { RtnetlinkMessage } from '../kernel/syscalls.js';

/** "RTM_NEWADDR ifa_index=eth0 ifa_prefixlen=16 IFA_LOCAL=10.88.0.2" */
export function describeMessage({ message, ...fields }: RtnetlinkMessage): string {
  return [message, fieldsText(fields)].join(' ');
}

function fieldsText(fields: object): string {
  return Object.entries(fields).map(([name, value]) =>
    `${name}=${Array.isArray(value) ? value.join('|') : typeof value === 'object' ? `{${fieldsText(value as object)}}` : String(value)}`).join(' ');
}

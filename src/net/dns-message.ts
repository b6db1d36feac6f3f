// DNS messages (RFC 1035 §4), as much as the network's name server needs:
// read the one question of a query, and write an answer of A records. Every
// other message passes through untouched: a forwarded query and its answer
// are copied byte for byte, so they need no parsing at all.
//
//   header (12 bytes)   id, flags (QR opcode AA TC RD RA rcode), then how many questions, answers, authority
//                       and additional records follow
//   question            the name as labels (3 "web" 0), type (A = 1), class (IN = 1)
//   answer              name, type, class, TTL, the data's length, the data (for A: four bytes)

export const TYPE_A = 1;
export const CLASS_IN = 1;
const HEADER_LENGTH = 12;

export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;

export interface Question {
  id: number;
  /** Lower case, without the final dot: "web". */
  name: string;
  type: number;
  class: number;
  /** The question as the query wrote it, to be copied into the answer. */
  raw: Buffer;
}

/** The question of a standard query, or undefined when the message is not one tsrun answers itself
 *  (an answer, another opcode, several questions, a name cut short). */
export function readQuestion(message: Buffer): Question | undefined {
  if (message.length < HEADER_LENGTH) return undefined;
  const flags = message.readUInt16BE(2);
  const isQuery = (flags & 0x8000) === 0;
  const opcode = (flags >> 11) & 0xf;
  if (!isQuery || opcode !== 0 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = HEADER_LENGTH;
  // Each label is a length byte and that many bytes; a zero length ends the name. A name has at most 127 labels.
  for (let count = 0; count < 128; count++) {
    const length = message[at];
    if (length === undefined || length > 63) return undefined; // cut short, or a compression pointer: no query has one here
    at += 1;
    if (length === 0) {
      if (at + 4 > message.length) return undefined;
      return {
        id: message.readUInt16BE(0),
        name: labels.join('.').toLowerCase(),
        type: message.readUInt16BE(at),
        class: message.readUInt16BE(at + 2),
        raw: message.subarray(HEADER_LENGTH, at + 4),
      };
    }
    labels.push(message.toString('latin1', at, at + length));
    at += length;
  }
  return undefined;
}

// #region dns-answer
/** The answer to `question`: its A records (none for a name that exists but has no address of that type). */
export function writeAnswer(question: Question, rcode: number, addresses: string[] = [], ttl = 0): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(question.id, 0);
  // QR (an answer), AA (tsrun is the authority for its containers' names), RD and RA (recursion: asked, offered).
  header.writeUInt16BE(0x8000 | 0x0400 | 0x0100 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc000 | HEADER_LENGTH, 0); // the name: a pointer to the question's, at offset 12
    record.writeUInt16BE(TYPE_A, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(ttl, 6);
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((byte, i) => record.writeUInt8(Number(byte), 12 + i));
    return record;
  });
  return Buffer.concat([header, question.raw, ...records]);
}
// #endregion

/** An answer that says only what went wrong, with the question copied back when there is one
 *  (resolvers check that an answer repeats their question); undefined for a message without even an id. */
export function writeError(message: Buffer, rcode: number): Buffer | undefined {
  const question = readQuestion(message);
  if (question) return writeAnswer(question, rcode);
  if (message.length < 2) return undefined;
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(message.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | 0x0080 | rcode, 2);
  return header;
}

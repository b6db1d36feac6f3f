// A blob's name is the sha256 of its bytes: what a file holds, checked against what it is called.
import crypto from 'node:crypto';
import fs from 'node:fs';

export async function hashFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

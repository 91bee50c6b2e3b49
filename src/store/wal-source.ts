import { closeSync, openSync, readSync } from 'node:fs';
import type { NodeSource } from '../dag/index.js';

/**
 * Node bytes read back from the WAL itself: a CREATE_NODE record's payload is the node's canonical
 * encoding, so the log is the node store and the index keeps only offsets. Reads are positional on
 * a read-only descriptor (records are read only after they are durable).
 */
export class WalNodeSource implements NodeSource {
  private fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  read(loc: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, out, got, len - got, loc + got);
      if (n === 0) throw new RangeError(`log ends before node bytes at ${loc}+${len}`);
      got += n;
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

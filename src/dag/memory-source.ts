import type { NodeSource } from './dag.js';

/** Node bytes kept in memory: for tests, tools and short-lived DAGs. */
export class MemoryNodeSource implements NodeSource {
  private readonly chunks: Uint8Array[] = [];

  add(bytes: Uint8Array): number {
    this.chunks.push(bytes.slice());
    return this.chunks.length - 1;
  }

  read(loc: number, _len: number): Uint8Array {
    const b = this.chunks[loc];
    if (b === undefined) throw new RangeError(`no node bytes at ${loc}`);
    return b.slice();
  }
}

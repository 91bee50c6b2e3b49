import { blake3 } from '../src/codec/index.js';
import { blobNode, nodeId } from '../src/dag/index.js';
import { type Comparison, compare } from './harness.js';

/** NodeID of a 4 KiB blob (canonical encoding + BLAKE3) next to BLAKE3 of the same 4 KiB alone. */
export function nodeIdBenches(): Comparison[] {
  const content = new Uint8Array(4096);
  for (let i = 0; i < content.length; i++) content[i] = (i * 131) & 0xff;
  const node = blobNode(content);
  return [
    compare(
      'NodeID of a 4 KiB blob vs BLAKE3 of its 4 KiB alone',
      () => nodeId(node),
      () => blake3(content),
    ),
  ];
}

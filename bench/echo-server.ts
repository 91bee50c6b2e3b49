/**
 * The baseline for RPC round trips: a raw framed echo server on a Unix socket. It verifies each
 * JS-ABI frame (as jitd does) and sends the same frame back, with no decoding or dispatch.
 * Prints "ready" once listening. Usage: node echo-server.js SOCKET
 */
import { unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { encodeFrame, FrameReader } from '../src/codec/index.js';

const path = process.argv[2]!;
await unlink(path).catch(() => undefined);
createServer((s) => {
  const reader = new FrameReader();
  s.on('data', (d: Buffer) => {
    for (const f of reader.push(d)) s.write(encodeFrame(f.payload));
  });
  s.on('error', () => s.destroy());
}).listen(path, () => console.log('ready'));

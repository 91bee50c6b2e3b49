/**
 * The baseline for durable acknowledgement latency: a framed echo server that appends each frame
 * it receives to a file and answers only once the bytes are durable (the file is opened with
 * O_DSYNC, as the WAL is). Frames that arrive while a write is in flight go together in the next
 * one (the same group commit as the WAL). No
 * decoding, no kernel: what is left is the socket and the disk. Prints "ready" once listening.
 * Usage: node durable-echo-server.js SOCKET FILE
 */
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { encodeFrame, FrameReader } from '../src/codec/index.js';

const [path, file] = process.argv.slice(2) as [string, string];
await unlink(path).catch(() => undefined);
const fh = await open(
  file,
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_DSYNC ?? 0),
);
let end = 0;
let queue: { socket: Socket; frame: Uint8Array }[] = [];
let flushing = false;

async function flush(): Promise<void> {
  flushing = true;
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    const parts = batch.map((q) => q.frame);
    const { bytesWritten } = await fh.writev(parts, end);
    end += bytesWritten;
    if (constants.O_DSYNC === undefined) await fh.datasync();
    for (const q of batch) if (!q.socket.destroyed) q.socket.write(q.frame);
  }
  flushing = false;
}

createServer((s) => {
  const reader = new FrameReader();
  s.on('data', (d: Buffer) => {
    for (const f of reader.push(d)) queue.push({ socket: s, frame: encodeFrame(f.payload) });
    if (!flushing) void flush();
  });
  s.on('error', () => s.destroy());
}).listen(path, () => console.log('ready'));

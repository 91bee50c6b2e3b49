import type { Socket } from 'node:net';

/**
 * Writes to `socket` coalesced per tick: the first write of a tick corks the socket and the end
 * of the tick uncorks it, so the answers a group commit releases together leave in one writev
 * rather than one syscall each. Nothing waits longer than the current tick.
 */
export function batchedWriter(socket: Socket): (bytes: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (bytes) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    socket.write(bytes);
  };
}

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CborValue, encode, encodeFrame, FrameReader } from '../../src/codec/index.js';
import {
  BadRequestError,
  decodeResponse,
  type Handler,
  MAX_BAD_REQUESTS,
  RemoteError,
  RpcClient,
  RpcServer,
} from '../../src/rpc/index.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

let dir: string;
let server: RpcServer;
let path: string;
let state = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-rpc-'));
  path = join(dir, 's.sock');
  const handlers = new Map<string, Handler>([
    ['echo', (p) => p],
    [
      'add',
      (p) => {
        const n = (p as { n?: unknown }).n;
        if (typeof n !== 'number') throw new BadRequestError('add takes {n: number}');
        state += n;
        return { state };
      },
    ],
    [
      'slow',
      async (p) => {
        await new Promise((r) => setTimeout(r, Number((p as { ms: number }).ms)));
        return p;
      },
    ],
    [
      'boom',
      () => {
        throw new Error('secret internals /etc/passwd');
      },
    ],
  ]);
  server = new RpcServer(handlers);
  await server.listen({ path });
});
after(async () => {
  await server.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes on a fresh connection; resolves with the answers and whether the server closed it. */
function raw(
  bytes: Uint8Array,
): Promise<{ answers: ReturnType<typeof decodeResponse>[]; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(path);
    const reader = new FrameReader();
    const answers: ReturnType<typeof decodeResponse>[] = [];
    let closed = false;
    s.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) answers.push(decodeResponse(f.payload));
    });
    s.on('end', () => {
      closed = true;
    });
    s.on('close', () => resolve({ answers, closed }));
    s.write(bytes);
    setTimeout(() => s.destroy(), 300);
  });
}

describe('rpc - requests and answers', () => {
  it('answers calls, many in flight on one connection, matched by rid', async () => {
    const c = await RpcClient.connect({ path });
    const results = await Promise.all([
      c.call('slow', { ms: 60, tag: 'a' }),
      c.call('echo', { tag: 'b' }),
      c.call('slow', { ms: 10, tag: 'c' }),
    ]);
    assert.deepEqual(results, [{ ms: 60, tag: 'a' }, { tag: 'b' }, { ms: 10, tag: 'c' }]);
    await c.close();
  });
  it('an unknown op is E_INVALID_OP; a handler error keeps its code; an unexpected error leaks nothing', async () => {
    const c = await RpcClient.connect({ path });
    await assert.rejects(
      c.call('nope'),
      (e: unknown) => e instanceof RemoteError && e.code === 1 && /unknown op/.test(e.message),
    );
    await assert.rejects(
      c.call('add', { n: 'x' }),
      (e: unknown) =>
        e instanceof RemoteError && e.code === 2 && e.remoteName === 'BadRequestError',
    );
    await assert.rejects(c.call('boom'), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.code, 500);
      assert.equal(e.message, 'internal error');
      return true;
    });
    assert.deepEqual(await c.call('echo', 'still alive'), 'still alive');
    await c.close();
  });
});

describe('rpc - bad input', () => {
  it('a frame that does not verify gets an error answer and the connection is closed', async () => {
    const f = encodeFrame(encode({ op: 'add', ts: 0, rid: 7, payload: { n: 1 } }));
    f[f.length - 1]! ^= 1;
    const before = state;
    const { answers, closed } = await raw(f);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.status, 'ERR');
    assert.equal(answers[0]!.status === 'ERR' && answers[0]!.error.code, 3);
    assert.ok(closed);
    assert.equal(state, before, 'a rejected request changes nothing');
  });
  it('malformed envelopes get E_BAD_PAYLOAD with their rid; a peer that keeps at it is disconnected', async () => {
    const bad = [
      encode([1, 2]),
      encode({ op: 'add', ts: 0, rid: 5, payload: { n: 1 }, extra: 1 }),
      encode({ op: '', ts: 0, rid: 6, payload: null }),
    ];
    const one = await raw(Buffer.concat(bad.map((b) => encodeFrame(b))));
    assert.deepEqual(
      one.answers.map((a) => a.rid),
      [0, 5, 6],
    );
    assert.ok(one.answers.every((a) => a.status === 'ERR' && a.error.code === 2));
    assert.equal(one.closed, false);
    const many = await raw(
      Buffer.concat(
        Array.from({ length: MAX_BAD_REQUESTS + 3 }, () => encodeFrame(encode('junk'))),
      ),
    );
    assert.equal(many.answers.length, MAX_BAD_REQUESTS);
    assert.ok(many.closed);
  });
  it('fuzz: random and mutated frames get typed errors and never change state', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const before = state;
    const n = iterations(300, 100_000);
    for (let i = 0; i < n; i += 20) {
      const chunks: Uint8Array[] = [];
      for (let j = 0; j < 20; j++) {
        let req: CborValue = {
          op: r.pick(['add', 'echo', 'x']),
          ts: r.int(3),
          rid: r.int(100),
          payload: { n: 'no' },
        };
        if (r.next() < 0.3) req = { rid: 1, junk: r.bytes(r.int(20)) };
        const f = encodeFrame(encode(req));
        if (r.next() < 0.5) f[r.int(f.length)]! ^= 1 << r.int(8);
        chunks.push(f);
      }
      const { answers } = await raw(Buffer.concat(chunks));
      for (const a of answers)
        assert.ok(a.status === 'ERR' || a.status === 'OK', replayHint(seed, 'rpc'));
    }
    assert.equal(state, before, replayHint(seed, 'rpc'));
  });
});

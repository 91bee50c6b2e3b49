import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CborValue, encode, encodeFrame, FrameReader } from '../../src/codec/index.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { errorCodeName } from '../../src/errors/index.js';
import { adminSigner } from '../../src/identity/index.js';
import { decodeResponse, RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';
import { randomValue } from '../helpers/values.js';

const tmp = tmpDirs('jit-kfuzz-');
let jitd: Jitd;
before(async () => {
  jitd = await startJitd({ home: await tmp() });
  // some state to protect: a committed file and an active SWS
  const c = await RpcClient.connect(
    { path: socketPath(jitd.home) },
    { login: await adminSigner(jitd.home) },
  );
  const { id } = (await c.call('shadow.create', { ref: 'main', owner: 'o' })) as { id: string };
  await c.call('shadow.apply_patch', {
    id,
    patch: { author: 'o', ops: [{ op: 'put', path: 'f', content: new Uint8Array([1]) }] },
  });
  await c.close();
});
after(async () => {
  await jitd.stop();
});

const OPS = [...jitdOps()];
function jitdOps(): string[] {
  return [
    'handshake',
    'jit.info',
    'shadow.create',
    'shadow.apply_patch',
    'shadow.read',
    'shadow.files',
    'shadow.diff',
    'shadow.status',
    'shadow.list',
    'shadow.discard',
    'shadow.commit',
    'collapse.commit',
    'collapse.validate',
    'ref.get',
    'ref.list',
    'ref.set',
    'ref.create_branch',
    'ref.create_tag',
    'ref.delete',
    'dag.get_node',
    'dag.get_parents',
    'dag.lineage',
    'dag.subgraph',
    'no.such.op',
  ];
}

/** Sends a burst of frames on a fresh connection; resolves with the decoded answers. */
function burst(bytes: Uint8Array): Promise<ReturnType<typeof decodeResponse>[]> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath(jitd.home));
    const reader = new FrameReader();
    const answers: ReturnType<typeof decodeResponse>[] = [];
    s.on('data', (d: Buffer) => {
      try {
        for (const f of reader.push(d)) answers.push(decodeResponse(f.payload));
      } catch (e) {
        reject(e);
      }
    });
    s.on('close', () => resolve(answers));
    s.on('error', () => resolve(answers));
    s.end(bytes);
  });
}

describe('rpc - fuzz against the kernel', () => {
  it('random and mutated requests get typed answers and never change the kernel', {
    timeout: 3_600_000,
  }, async () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'kernel-fuzz');
    const store = jitd.kernel.store.digest();
    const sws = jitd.kernel.swsSummary().digest;
    const n = iterations(10_000, 1_000_000);
    for (let i = 0; i < n; i += 50) {
      const frames: Uint8Array[] = [];
      let firstBad = 50;
      for (let j = 0; j < 50; j++) {
        const payload: CborValue =
          r.next() < 0.2
            ? randomValue(r)
            : {
                id: r.pick(['', 'xyz', 'ab'.repeat(16), 'ab'.repeat(32)]),
                path: '../x',
                x: randomValue(r),
              };
        const f = encodeFrame(encode({ op: r.pick(OPS), ts: r.int(5), rid: i + j, payload }));
        if (r.next() < 0.05) {
          f[r.int(f.length)]! ^= 1 << r.int(8);
          firstBad = Math.min(firstBad, j);
        }
        frames.push(f);
      }
      const answers = await burst(Buffer.concat(frames));
      // every frame before the first bad one is answered, then the bad one's error, then the close
      assert.equal(answers.length, firstBad === 50 ? 50 : firstBad + 1, `burst at ${i}; ${hint}`);
      for (const a of answers) {
        if (a.status === 'ERR')
          assert.ok(
            errorCodeName(a.error.code) !== undefined,
            `unknown code ${a.error.code}; ${hint}`,
          );
        if (a.status === 'ERR')
          assert.notEqual(
            a.error.code,
            500,
            `an internal error escaped: ${a.error.message}; ${hint}`,
          );
      }
    }
    assert.equal(jitd.kernel.store.digest(), store, `the store changed; ${hint}`);
    assert.equal(jitd.kernel.swsSummary().digest, sws, `an SWS changed; ${hint}`);
    const c = await RpcClient.connect(
      { path: socketPath(jitd.home) },
      { login: await adminSigner(jitd.home) },
    );
    assert.equal(((await c.call('jit.info', {})) as { sws_active: number }).sws_active, 1);
    await c.close();
  });
});

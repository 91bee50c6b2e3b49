import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BatchVerifier,
  KeyPair,
  keySigner,
  pathLength,
  signBatch,
  staticVerifier,
  TrustStore,
} from '../../src/identity/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

const key = KeyPair.fromSeed(new Uint8Array(32).fill(9));
const signer = keySigner('alice', key);
const verifier = staticVerifier([
  ['alice', key.publicKey],
  ['bob', KeyPair.generate().publicKey],
]);
const messages = (n: number, tag = 0): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => new TextEncoder().encode(`message ${tag}/${i}`));

describe('batch signatures (a Merkle root signed once)', () => {
  it('proves every message of batches of 1 to 70, each on its own, with one signature check a batch', () => {
    for (let n = 1; n <= 70; n++) {
      const ms = messages(n, n);
      const batch = signBatch(signer, ms);
      const v = new BatchVerifier(verifier);
      // in a scrambled order, as a group member or a redelivery might see them
      const order = ms.map((_, i) => (i * 7) % n).filter((x, i, a) => a.indexOf(x) === i);
      for (let i = 0; i < n; i++) if (!order.includes(i)) order.push(i);
      for (const i of order) {
        const p = batch.proof(i);
        assert.equal(p.path.length, pathLength(i, n) * 32);
        assert.equal(v.verify('alice', ms[i]!, p), 'ok', `message ${i} of ${n}`);
        // and alone, by a verifier that has seen nothing of the batch
        assert.equal(new BatchVerifier(verifier).verify('alice', ms[i]!, p), 'ok');
      }
      assert.equal(v.stats.signatures, 1, `one signature check for the batch of ${n}`);
    }
  });

  it('keeps what it has authenticated within its byte budget, however large the batches', () => {
    // a sender's batches of 4,096 with one message heard from each: ~270 KB of tree apiece
    const v = new BatchVerifier(verifier, { maxBytes: 1 << 20 });
    let kept = 0;
    for (let b = 0; b < 12; b++) {
      const ms = messages(4096, 1000 + b);
      const batch = signBatch(signer, ms);
      assert.equal(v.verify('alice', ms[b]!, batch.proof(b)), 'ok');
      kept = Math.max(kept, v.keptBytes);
      // the batch just checked is still known: another of its messages costs no signature
      const before = v.stats.signatures;
      assert.equal(v.verify('alice', ms[b + 1]!, batch.proof(b + 1)), 'ok');
      assert.equal(v.stats.signatures, before);
    }
    assert.ok(kept > 0);
    // two generations of at most half the budget each, the last tree included
    assert.ok(kept <= (1 << 20) + 2 * 8191 * 33, `kept ${kept} bytes`);
    assert.equal(v.stats.signatures, 12);
  });

  it('refuses any change: of a message, its place, its path, the count, the signer (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'batch signatures');
    for (let k = 0; k < 200; k++) {
      const n = 1 + r.int(40);
      const ms = messages(n, k);
      const batch = signBatch(signer, ms);
      const i = r.int(n);
      const p = batch.proof(i);
      // a verifier that has checked the whole batch already: refusals come from its kept nodes
      const warm = new BatchVerifier(verifier);
      for (let j = 0; j < n; j++) assert.equal(warm.verify('alice', ms[j]!, batch.proof(j)), 'ok');
      const checks = warm.stats.signatures;
      for (const v of [new BatchVerifier(verifier), warm]) {
        const changed = new Uint8Array(ms[i]!);
        changed[r.int(changed.length)]! ^= 1 << r.int(8);
        assert.equal(v.verify('alice', changed, p), 'bad-signature', hint);
        if (n > 1) {
          const j = (i + 1 + r.int(n - 1)) % n;
          assert.equal(v.verify('alice', ms[j]!, p), 'bad-signature', `swapped; ${hint}`);
          assert.equal(
            v.verify('alice', ms[i]!, { ...p, index: j }),
            'bad-signature',
            `moved; ${hint}`,
          );
        }
        if (v === warm) {
          assert.equal(warm.stats.signatures, checks, 'changed content is refused on kept nodes');
        } else if (p.path.length > 0) {
          // (a verifier that knows the leaf needs no path: the message itself is what is proved)
          const path = new Uint8Array(p.path);
          path[r.int(path.length)]! ^= 1;
          assert.equal(v.verify('alice', ms[i]!, { ...p, path }), 'bad-signature', hint);
        }
        assert.equal(v.verify('alice', ms[i]!, { ...p, count: n + 1 }), 'bad-signature', hint);
        assert.equal(v.verify('bob', ms[i]!, p), 'bad-signature', `other signer; ${hint}`);
        assert.equal(v.verify('carol', ms[i]!, p), 'unknown-sender', hint);
      }
    }
  });

  it('stops vouching for a batch once its key leaves the trust store', async () => {
    const trust = TrustStore.memory([{ agent: 'alice', publicKey: key.publicKey, role: 'agent' }]);
    const ms = messages(8);
    const batch = signBatch(signer, ms);
    const v = new BatchVerifier(trust);
    assert.equal(v.verify('alice', ms[0]!, batch.proof(0)), 'ok');
    assert.equal(v.verify('alice', ms[1]!, batch.proof(1)), 'ok');
    assert.equal(v.stats.signatures, 1);
    await trust.remove('alice');
    assert.equal(v.verify('alice', ms[2]!, batch.proof(2)), 'unknown-sender');
    assert.equal(v.verify('alice', ms[1]!, batch.proof(1)), 'unknown-sender');
  });

  it('refuses impossible shapes without a signature check', () => {
    const ms = messages(4);
    const p = signBatch(signer, ms).proof(1);
    const v = new BatchVerifier(verifier);
    for (const bad of [
      { ...p, index: 4 },
      { ...p, index: -1 },
      { ...p, count: 0 },
      { ...p, count: 5000 },
      { ...p, path: p.path.subarray(32) },
    ])
      assert.equal(v.verify('alice', ms[1]!, bad), 'bad-signature');
    assert.equal(v.stats.signatures, 0);
    assert.throws(() => signBatch(signer, []), RangeError);
  });
});

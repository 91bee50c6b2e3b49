import assert from 'node:assert/strict';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AgentExistsError,
  fingerprint,
  IdentityInputError,
  KeyFileError,
  KeyPair,
  KeyPermissionError,
  publicKeyObject,
  TrustStore,
  verifyEd25519,
} from '../../src/identity/index.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-id-');

describe('keys', () => {
  it('saves a 0600 PEM, loads the same key, and never shows the private half', async () => {
    const dir = await tmp();
    const k = KeyPair.generate();
    const path = join(dir, 'keys', 'a.key');
    await k.save(path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const back = await KeyPair.load(path);
    assert.deepEqual(back.publicKey, k.publicKey);
    assert.equal(back.fingerprint, fingerprint(k.publicKey));
    assert.equal(back.fingerprint.length, 64);
    const msg = new TextEncoder().encode('hello');
    assert.deepEqual(back.sign(msg), k.sign(msg));
    const pem = await readFile(path, 'utf8');
    const shown = `${k} ${JSON.stringify(k)} ${JSON.stringify({ k })}`;
    assert.ok(!shown.includes(pem.split('\n')[1]!), 'private key material shown');
    await assert.rejects(k.save(path), KeyFileError, 'an existing key is not replaced');
    await k.save(path, { overwrite: true });
  });

  it('refuses a key file others can read, a missing one, and one that is not a key', async () => {
    const dir = await tmp();
    const path = join(dir, 'a.key');
    await KeyPair.generate().save(path);
    await chmod(path, 0o644);
    await assert.rejects(KeyPair.load(path), KeyPermissionError);
    await assert.rejects(KeyPair.load(join(dir, 'none.key')), KeyFileError);
    const junk = join(dir, 'junk.key');
    await import('node:fs/promises').then((fs) => fs.writeFile(junk, 'nope', { mode: 0o600 }));
    await assert.rejects(KeyPair.load(junk), KeyFileError);
  });

  it('derives the same key from the same seed', () => {
    const s = new Uint8Array(32).fill(7);
    assert.deepEqual(KeyPair.fromSeed(s).publicKey, KeyPair.fromSeed(s).publicKey);
    assert.throws(() => KeyPair.fromSeed(new Uint8Array(31)), IdentityInputError);
  });
});

describe('signature checks, cached per process', () => {
  it('a cached success never vouches for another message, signature or key', () => {
    const a = KeyPair.generate();
    const b = KeyPair.generate();
    const ka = publicKeyObject(a.publicKey);
    const kb = publicKeyObject(b.publicKey);
    assert.equal(publicKeyObject(a.publicKey), ka, 'one key object per public key');
    const m = new TextEncoder().encode('pay 10 to bob');
    const sig = a.sign(m);
    for (let i = 0; i < 3; i++) assert.equal(verifyEd25519(ka, m, sig), true); // cached after the first
    const other = new TextEncoder().encode('pay 99 to bob');
    assert.equal(verifyEd25519(ka, other, sig), false);
    assert.equal(verifyEd25519(kb, m, sig), false);
    const flipped = Uint8Array.from(sig);
    flipped[0]! ^= 1;
    assert.equal(verifyEd25519(ka, m, flipped), false);
    assert.equal(verifyEd25519(ka, m, sig.subarray(0, 63)), false);
    // and a failure is not remembered as one: the right signature still verifies
    assert.equal(verifyEd25519(kb, m, b.sign(m)), true);
  });
});

describe('trust store', () => {
  it('binds ids to keys, persists them, is idempotent, refuses rebinding and verifies', async () => {
    const dir = await tmp();
    const path = join(dir, 'trust.cbor');
    const t = await TrustStore.open(path);
    const k = KeyPair.generate();
    assert.equal(
      (await t.add({ agent: 'bob', publicKey: k.publicKey, role: 'agent' })).added,
      true,
    );
    assert.equal(
      (await t.add({ agent: 'bob', publicKey: k.publicKey, role: 'agent' })).added,
      false,
    );
    await assert.rejects(
      t.add({ agent: 'bob', publicKey: KeyPair.generate().publicKey, role: 'agent' }),
      AgentExistsError,
    );
    await assert.rejects(
      t.add({ agent: 'no way', publicKey: k.publicKey, role: 'agent' }),
      IdentityInputError,
    );
    await assert.rejects(
      t.add({ agent: 'x', publicKey: new Uint8Array(5), role: 'agent' }),
      IdentityInputError,
    );
    const again = await TrustStore.open(path);
    assert.deepEqual(again.list(), t.list());
    assert.deepEqual(again.encode(), t.encode());
    const msg = new Uint8Array([1, 2, 3]);
    assert.equal(again.verify('bob', msg, k.sign(msg)), 'ok');
    assert.equal(again.verify('bob', msg, KeyPair.generate().sign(msg)), 'bad-signature');
    assert.equal(again.verify('carol', msg, k.sign(msg)), 'unknown-sender');
    assert.equal(await again.remove('bob'), true);
    assert.equal(await again.remove('bob'), false);
    assert.deepEqual((await TrustStore.open(path)).list(), []);
  });
});

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CborValue,
  encode,
  encodeMap,
  fromHex,
  MapLayout,
  toHex,
} from '../../src/codec/index.js';
import { KeyPair, keySigner, staticVerifier } from '../../src/identity/index.js';
import { readEnvelopeFast } from '../../src/mp/envelope-fast.js';
import {
  checkPattern,
  checkSignature,
  checkTopic,
  decodeEnvelope,
  decodeEnvelopeGeneric,
  type Envelope,
  EnvelopeError,
  encodeEnvelope,
  envelopeLength,
  isKernelTopic,
  patternMatcher,
  seal,
  sealBatch,
  signingBytes,
  TopicError,
} from '../../src/mp/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

const fixture = new URL('../../../test/fixtures/mp/envelope-v1.json', import.meta.url);
const fixtureExp = new URL('../../../test/fixtures/mp/envelope-v1-exp.json', import.meta.url);
const fixtureEp = new URL('../../../test/fixtures/mp/envelope-v1-ep.json', import.meta.url);
const fixtureBatch = new URL('../../../test/fixtures/mp/envelope-v1-batch.json', import.meta.url);
const seed = new Uint8Array(32).map((_, i) => i + 1);
const key = KeyPair.fromSeed(seed);

function goldenEnvelope(): Envelope {
  return seal(
    {
      v: 1,
      id: new Uint8Array(16).map((_, i) => 0xa0 + i),
      sender: 'alice',
      ts: 7,
      seq: 3,
      topic: 'jit.sws.00112233445566778899aabbccddeeff.patch',
      payload: { patch: { author: 'alice', ops: [] }, n: -1, ok: true },
    },
    keySigner('alice', key),
  );
}

/**
 * Checks `bytes` against the golden file at `url` (written anew with JIT_WRITE_FIXTURES=1) and
 * returns the stored envelope, decoded.
 */
function matchesGolden(url: URL, bytes: Uint8Array): Envelope {
  const golden = { public_key: toHex(key.publicKey), envelope: toHex(bytes) };
  if (process.env.JIT_WRITE_FIXTURES === '1')
    writeFileSync(url, `${JSON.stringify(golden, null, 2)}\n`);
  const stored = JSON.parse(readFileSync(url, 'utf8')) as typeof golden;
  assert.deepEqual(golden, stored);
  return decodeEnvelope(fromHex(stored.envelope)!);
}

/** `field` of the signed envelope `e` is covered: changing or removing it breaks the signature. */
function assertSigned(e: Envelope, field: 'exp' | 'ep'): void {
  const v = staticVerifier([['alice', key.publicKey]]);
  assert.equal(checkSignature(e, v), 'ok');
  assert.equal(checkSignature({ ...e, [field]: e[field]! + 1 }, v), 'bad-signature');
  const { [field]: _, ...without } = e;
  assert.equal(checkSignature(without, v), 'bad-signature', `removing ${field} breaks it`);
}

/**
 * `map` encoded canonically but for the unsigned integer at `field`, whose head carries its value
 * in `width` bytes (a longer head than canonical CBOR allows, unless it is the shortest one);
 * undefined when the field holds no such integer or it does not fit.
 */
function widened(
  map: Record<string, CborValue>,
  field: string,
  width: number,
): Uint8Array | undefined {
  const v = map[field];
  if (
    typeof v !== 'number' ||
    !Number.isSafeInteger(v) ||
    v < 0 ||
    (width < 8 && v >= 2 ** (8 * width))
  )
    return undefined;
  // the field's value as a unique marker, found in the encoding and replaced
  const marker = new Uint8Array(17).fill(0xee);
  const bytes = encode({ ...map, [field]: marker });
  const at = toHex(bytes).indexOf(toHex(Uint8Array.of(0x51, ...marker))) / 2;
  const head = [0x18, 0x19, 0, 0x1a, 0, 0, 0, 0x1b][width - 1]!;
  const arg = Array.from(
    { length: width },
    (_, i) => Math.floor(v / 2 ** (8 * (width - 1 - i))) % 256,
  );
  return Uint8Array.from([...bytes.subarray(0, at), head, ...arg, ...bytes.subarray(at + 18)]);
}

describe('envelope', () => {
  it('matches the golden bytes (a format change is caught)', () => {
    const e = matchesGolden(fixture, encodeEnvelope(goldenEnvelope()));
    assert.equal(checkSignature(e, staticVerifier([['alice', key.publicKey]])), 'ok');
  });

  it('matches the golden bytes with an expiry, which is signed like every other field', () => {
    const e = seal({ ...goldenEnvelope(), exp: 1_800_000_000_000 }, keySigner('alice', key));
    const bytes = encodeEnvelope(e);
    const back = matchesGolden(fixtureExp, bytes);
    assert.equal(back.exp, 1_800_000_000_000);
    assertSigned(back, 'exp');
    assert.throws(
      () => decodeEnvelope(encode({ ...decodeEnvelope(bytes), exp: -1 } as never)),
      EnvelopeError,
    );
  });

  it('matches the golden bytes of an envelope with a stream epoch, which the signature covers', () => {
    const { sig: _, ...plain } = goldenEnvelope();
    const e = seal(
      { ...plain, exp: 1_800_000_000_000, ep: 1_799_999_000_000 },
      keySigner('alice', key),
    );
    const bytes = encodeEnvelope(e);
    const back = matchesGolden(fixtureEp, bytes);
    assert.equal(back.ep, 1_799_999_000_000);
    assertSigned(back, 'ep');
    for (const bad of [-1, 1.5, 'x'])
      assert.throws(
        () => decodeEnvelope(encode({ ...decodeEnvelope(bytes), ep: bad } as never)),
        EnvelopeError,
      );
  });

  it('encodes by its fixed key order exactly as the generic encoder encodes the same map (property)', () => {
    const seed = testSeed();
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const envelope = fc.record({
      id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      sender: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
      ts: fc.nat(),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      topic: fc.stringMatching(/^[a-z]{1,8}(\.[a-z0-9]{1,8}){0,4}$/),
      payload: fc.jsonValue() as fc.Arbitrary<CborValue>,
      exp: opt(fc.nat()),
      ep: opt(fc.nat()),
      sig: opt(fc.uint8Array({ minLength: 64, maxLength: 64 })),
    });
    try {
      fc.assert(
        fc.property(envelope, (r) => {
          const e: Envelope = { v: 1, ...r };
          const generic: Record<string, CborValue> = {};
          for (const [k, v] of Object.entries(e)) if (v !== undefined) generic[k] = v;
          // the same bytes, or the same refusal (a number no CBOR integer holds)
          const outcome = (f: () => Uint8Array): Uint8Array | string => {
            try {
              return f();
            } catch (err) {
              return `${(err as { reason?: string }).reason}`;
            }
          };
          assert.deepStrictEqual(
            outcome(() => encodeEnvelope(e)),
            outcome(() => encode(generic)),
          );
          const { sig: _, ...unsignedMap } = generic;
          assert.deepStrictEqual(
            outcome(() => signingBytes(e)),
            outcome(() => encode(unsignedMap)),
          );
          // its length without encoding: the same, or undefined where encoding refuses
          const bytes = outcome(() => encodeEnvelope(e));
          assert.equal(envelopeLength(e), typeof bytes === 'string' ? undefined : bytes.length);
        }),
        { seed, numRuns: iterations(500, 50_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'envelope layout')}`, {
        cause: e,
      });
    }
  });

  it('reads an envelope as the generic decoder does, on random and damaged envelopes (property)', () => {
    const seed = testSeed();
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    // mostly good values (numbers on both sides of every head width), now and then a bad one
    const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 });
    const num = mostly(
      fc.oneof(
        fc.nat(),
        fc.constantFrom(0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
      ),
      fc.constantFrom(2 ** 53, 2 ** 64, -1, 0.5),
    );
    const fields = fc.record({
      v: mostly(fc.constant<CborValue>(1), fc.constantFrom<CborValue>(2, '1')),
      id: mostly(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array()),
      sender: mostly(fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/), fc.string({ unit: 'binary' })),
      ts: num,
      seq: num,
      topic: mostly(
        fc.stringMatching(/^[a-z]{1,8}(\.[a-z0-9]{1,8}){0,4}$/),
        fc.string({ unit: 'binary' }),
      ),
      payload: fc.jsonValue() as fc.Arbitrary<CborValue>,
      exp: opt(num),
      ep: opt(num),
      sig: opt(mostly(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array())),
      extra: mostly(fc.constant(undefined), fc.constantFrom('x', 'zz', 'sih', 'payloae')),
    });
    // a damage to the bytes: none, a byte changed, cut short, or bytes appended
    const damage = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      fc.tuple(fc.constant('set' as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
      fc.tuple(fc.constant('cut' as const), fc.nat()),
      fc.tuple(fc.constant('add' as const), fc.uint8Array({ minLength: 1, maxLength: 8 })),
      fc.tuple(
        fc.constant('widen' as const),
        fc.constantFrom('v', 'ts', 'seq', 'exp', 'ep'),
        fc.constantFrom(1, 2, 4, 8),
      ),
    );
    const outcome = (f: () => Envelope): Envelope | string => {
      try {
        return f();
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
    };
    let fastReads = 0;
    const runs = iterations(2000, 200_000);
    try {
      fc.assert(
        fc.property(fields, damage, (r, d) => {
          const map: Record<string, CborValue> = {};
          for (const [k, v] of Object.entries(r))
            if (v !== undefined && k !== 'extra') map[k] = v as CborValue;
          if (r.extra !== undefined) map[r.extra] = 0;
          let bytes: Uint8Array;
          try {
            bytes = encode(map);
          } catch {
            return; // a number CBOR has no integer for (the encoder refuses it)
          }
          if (d?.[0] === 'set') {
            bytes = bytes.slice();
            bytes[d[1] % bytes.length] = d[2];
          } else if (d?.[0] === 'cut') bytes = bytes.subarray(0, d[1] % bytes.length);
          else if (d?.[0] === 'add') bytes = Uint8Array.from([...bytes, ...d[1]]);
          else if (d?.[0] === 'widen') bytes = widened(map, d[1], d[2]) ?? bytes;
          if (readEnvelopeFast(bytes) !== undefined) fastReads++;
          assert.deepStrictEqual(
            outcome(() => decodeEnvelope(bytes)),
            outcome(() => decodeEnvelopeGeneric(bytes)),
          );
        }),
        { seed, numRuns: runs },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'generic decoder does')}`, {
        cause: e,
      });
    }
    // the fast reader did take part: a good share of the envelopes are well-formed
    assert.ok(fastReads > runs / 10, `the fast reader read only ${fastReads} of ${runs} envelopes`);
  });

  it('reads every envelope the plane writes with the fast reader', () => {
    const plain: Envelope = {
      v: 1,
      id: new Uint8Array(16).fill(9),
      sender: 'a-1',
      ts: 70_000,
      seq: 2 ** 40,
      topic: 'jit.sws.x.patch',
      payload: { body: 'x'.repeat(100), n: [1, 2.5, null] },
    };
    const variants: Envelope[] = [
      plain,
      { ...plain, exp: 1_800_000_000_000, ep: 1_700_000_000_000 },
      seal(plain, keySigner('a-1', key)),
    ];
    for (const e of variants) {
      const f = readEnvelopeFast(encodeEnvelope(e));
      assert.ok(f !== undefined, `not read fast: ${JSON.stringify(Object.keys(e))}`);
      assert.deepStrictEqual(decodeEnvelope(encodeEnvelope(e)), e);
    }
    // a batch-signed envelope: the map is read fast and the proof after it generically
    const [batched] = sealBatch(
      [{ envelope: plain, signed: signingBytes(plain) }],
      keySigner('a-1', key),
    );
    const bytes = batched!.bytes;
    const f = readEnvelopeFast(bytes);
    assert.ok(f !== undefined && f.end < bytes.length);
    assert.deepStrictEqual(decodeEnvelope(bytes), decodeEnvelopeGeneric(bytes));
  });

  it('a map layout refuses a key named twice, and encodes what encode does, naming the bad path', () => {
    assert.throws(() => new MapLayout(['a', 'b', 'a']), TypeError);
    const l = new MapLayout(['zz', 'a', 'bb', 'c']);
    assert.deepStrictEqual(
      encodeMap(l, [1, 'x', [true], null]),
      encode({ zz: 1, a: 'x', bb: [true], c: null }),
    );
    assert.throws(() => encodeMap(l, [1, 'x', [undefined as never], null]), {
      name: 'CborEncodeError',
      path: '$.bb[0]',
    });
  });

  it('matches the golden bytes of a batch-signed envelope (the envelope, then its proof)', () => {
    // three envelopes signed as one batch; the golden is the second: its path has two hashes
    const batch = sealBatch(
      [1, 2, 3].map((seq) => {
        const { sig: _, ...e } = { ...goldenEnvelope(), seq, exp: 1_800_000_000_000 };
        return { envelope: e, signed: signingBytes(e) };
      }),
      keySigner('alice', key),
    );
    const bytes = batch[1]!.bytes;
    const back = matchesGolden(fixtureBatch, bytes);
    assert.equal(back.seq, 2);
    assert.equal(back.sig, undefined);
    assert.deepEqual(
      {
        i: back.batch!.proof.index,
        n: back.batch!.proof.count,
        path: back.batch!.proof.path.length,
      },
      { i: 1, n: 3, path: 64 },
    );
    const v = staticVerifier([['alice', key.publicKey]]);
    assert.equal(checkSignature(back, v), 'ok');
    assert.deepEqual(encodeEnvelope(back), bytes, 'encodes back to the same bytes');
    assert.equal(envelopeLength(back), bytes.length);
    // the proof is written by hand: it must be exactly the canonical CBOR of its map
    const p = back.batch!.proof;
    assert.deepEqual(
      bytes.subarray(back.batch!.signed.length),
      encode({ i: p.index, n: p.count, sig: p.sig, path: p.path }),
    );
    assert.deepEqual(back.batch!.signed, signingBytes(back));
  });

  it('refuses malformed batch proofs, naming what is wrong', () => {
    const [one, two] = sealBatch(
      [1, 2].map((seq) => {
        const { sig: _, ...e } = { ...goldenEnvelope(), seq };
        return { envelope: e, signed: signingBytes(e) };
      }),
      keySigner('alice', key),
    );
    const e = one!.envelope;
    const p = e.batch!.proof;
    const withProof = (proof: Record<string, unknown>, head: Uint8Array = e.batch!.signed) =>
      new Uint8Array([...head, ...encode(proof as never)]);
    const cases: [Uint8Array, RegExp][] = [
      [withProof({ i: 0, n: 2, sig: p.sig, path: p.path, x: 1 }), /unknown batch proof field "x"/],
      [withProof({ i: 2, n: 2, sig: p.sig, path: p.path }), /place 2 of 2 is impossible/],
      [withProof({ i: 0, n: 2, sig: p.sig, path: new Uint8Array(0) }), /is not 1 hashes/],
      [withProof({ i: 0, n: 2, sig: p.sig.subarray(1), path: p.path }), /sig is not 64 bytes/],
      [new Uint8Array([...one!.bytes, 0x00]), /not one canonical CBOR item/],
      [
        withProof({ i: 0, n: 2, sig: p.sig, path: p.path }, encodeEnvelope(goldenEnvelope())),
        /no sig of its own/,
      ],
    ];
    for (const [bytes, why] of cases) assert.throws(() => decodeEnvelope(bytes), why);
    // a genuine proof under another envelope of the batch does not verify
    const v = staticVerifier([['alice', key.publicKey]]);
    const swapped = decodeEnvelope(
      withProof({ i: 0, n: 2, sig: p.sig, path: p.path }, two!.envelope.batch!.signed),
    );
    assert.equal(checkSignature(swapped, v), 'bad-signature');
  });

  it('round-trips and verifies; any changed field breaks the signature', () => {
    const e = goldenEnvelope();
    const v = staticVerifier([['alice', key.publicKey]]);
    const back = decodeEnvelope(encodeEnvelope(e));
    assert.equal(checkSignature(back, v), 'ok');
    for (const change of [
      { topic: 'jit.sws.00112233445566778899aabbccddeeff.commit' },
      { seq: 4 },
      { ts: 8 },
      { payload: { n: 0 } },
      { id: new Uint8Array(16) },
    ])
      assert.equal(
        checkSignature({ ...back, ...change }, v),
        'bad-signature',
        JSON.stringify(change),
      );
    assert.equal(checkSignature({ ...back, sender: 'bob' }, v), 'unknown-sender');
    const { sig: _, ...unsigned } = back;
    assert.equal(checkSignature(unsigned, v), 'unsigned');
  });

  it('refuses malformed envelopes with a typed error naming the problem', () => {
    const good = encodeEnvelope(goldenEnvelope());
    const m = decodeEnvelope(good) as unknown as Record<string, unknown>;
    const bad: [string, unknown][] = [
      ['not a map', [1, 2]],
      ['unknown field', { ...m, extra: 1 }],
      ['version', { ...m, v: 2 }],
      ['id size', { ...m, id: new Uint8Array(3) }],
      ['sender', { ...m, sender: 'no spaces allowed' }],
      ['topic', { ...m, topic: 'a..b' }],
      ['wildcard topic', { ...m, topic: 'a.*' }],
      ['seq 0', { ...m, seq: 0 }],
      ['negative ts', { ...m, ts: -1 }],
      ['sig size', { ...m, sig: new Uint8Array(10) }],
    ];
    for (const [what, v] of bad)
      assert.throws(() => decodeEnvelope(encode(v as never)), EnvelopeError, what);
    const { payload: _, ...noPayload } = m;
    assert.throws(() => decodeEnvelope(encode(noPayload as never)), EnvelopeError);
    assert.throws(() => decodeEnvelope(new Uint8Array([0xff, 0x00])), EnvelopeError);
  });
});

describe('topics and patterns', () => {
  it('checks topics and patterns', () => {
    for (const t of ['jit.kernel.events', 'a', 'a-b_c.d1']) assert.equal(checkTopic(t), t);
    for (const t of ['', 'a..b', '.a', 'a.', 'a.*', 'a.>', 'a b', 'é'])
      assert.throws(() => checkTopic(t), TopicError, t);
    for (const p of ['a.*', 'a.>', '>', '*.*', 'a.*.c.>']) assert.equal(checkPattern(p), p);
    for (const p of ['a.>.b', 'a.**', 'a..b', ''])
      assert.throws(() => checkPattern(p), TopicError, p);
  });

  it('matches "*" as one token and ">" as one or more', () => {
    const cases: [string, string, boolean][] = [
      ['a.*.c', 'a.b.c', true],
      ['a.*.c', 'a.b.d', false],
      ['a.*.c', 'a.b.c.d', false],
      ['a.*', 'a', false],
      ['a.>', 'a.b', true],
      ['a.>', 'a.b.c.d', true],
      ['a.>', 'a', false],
      ['>', 'x.y', true],
      ['a.b', 'a.b', true],
      ['a.b', 'a.bc', false],
      ['jit.sws.*.status', 'jit.sws.42.status', true],
    ];
    for (const [p, t, want] of cases) assert.equal(patternMatcher(p)(t), want, `${p} ~ ${t}`);
  });

  it('knows the kernel-only topics', () => {
    assert.equal(isKernelTopic('jit.kernel.events'), true);
    assert.equal(isKernelTopic('jit.sws.ab.status'), true);
    assert.equal(isKernelTopic('jit.sws.ab.patch'), false);
    assert.equal(isKernelTopic('jit.kernelx'), false);
  });
});

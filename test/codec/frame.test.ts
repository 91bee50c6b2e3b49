import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  blake3Hex,
  decodeFrame,
  encode,
  encodeFrame,
  FrameChecksumError,
  FrameError,
  FrameReader,
  toHex,
} from '../../src/codec/index.js';
import { hx } from '../helpers/hex.js';
import { TV1_HEX, TV3_HEX } from '../helpers/js-abi-vectors.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

function patch(b: Uint8Array, at: number, bytes: number[]): Uint8Array {
  b.set(bytes, at);
  return b;
}

const TV2_HEADER = '4a495421 0100 0000 00000071';
const TV4_HEADER = '4a495421 0100 0000 00000076';
const TV2_SUM = '1b213f71f4d27560e1a720074c605a7864aaadf988071aa2907ca38f6b4229e3';
const TV4_SUM = 'ffbcb3798b89934c5c78578688670bdd5286e57f18ad4ccfa8ffc0f7af4bde8a';

describe('codec - JS-ABI frames', () => {
  it('BLAKE3 sanity: the empty input and the TV1/TV3 payload digests', () => {
    assert.equal(
      blake3Hex(new Uint8Array(0)),
      'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    );
    assert.equal(
      blake3Hex(hx(TV1_HEX)),
      'f69b98bd916679ba7586adefdf608dc4b53c28e674ff48e34beda20c3db9d589',
    );
    assert.equal(
      blake3Hex(hx(TV3_HEX)),
      'a37777fe2efe3ee49d0ae52d968c8dea54f2a31632b134339bdaa7c19619d77b',
    );
  });
  it('TV2 and TV4: header, payload and checksum byte for byte', () => {
    assert.equal(toHex(encodeFrame(hx(TV1_HEX))), toHex(hx(TV2_HEADER + TV1_HEX + TV2_SUM)));
    assert.equal(toHex(encodeFrame(hx(TV3_HEX))), toHex(hx(TV4_HEADER + TV3_HEX + TV4_SUM)));
  });
  it('decodes TV2 back to its payload', () => {
    const f = decodeFrame(hx(TV2_HEADER + TV1_HEX + TV2_SUM));
    assert.equal(f.version, 0x0100);
    assert.equal(f.flags, 0);
    assert.equal(toHex(f.payload), TV1_HEX);
  });
  const good = hx(TV2_HEADER + TV1_HEX + TV2_SUM);
  const cases: [string, (b: Uint8Array) => Uint8Array, string][] = [
    ['a bad magic', (b) => patch(b, 0, [0x4b]), 'bad-magic'],
    ['version 0x0001', (b) => patch(b, 4, [0, 1]), 'bad-version'],
    ['a flag bit', (b) => patch(b, 6, [0x80]), 'unsupported-flags'],
    ['a truncated frame', (b) => b.subarray(0, b.length - 1), 'truncated'],
    ['a bare header', (b) => b.subarray(0, 8), 'truncated'],
    ['trailing bytes', (b) => Uint8Array.from([...b, 0]), 'trailing-bytes'],
  ];
  for (const [what, mangle, reason] of cases) {
    it(`refuses ${what} with FrameError(${reason})`, () => {
      assert.throws(
        () => decodeFrame(mangle(Uint8Array.from(good))),
        (e: unknown) => e instanceof FrameError && e.reason === reason,
      );
    });
  }
  it('refuses a flipped payload bit with FrameChecksumError (E_CHECKSUM_FAIL)', () => {
    const b = Uint8Array.from(good);
    b[20]! ^= 1;
    assert.throws(
      () => decodeFrame(b),
      (e: unknown) => e instanceof FrameChecksumError && e.code === 3,
    );
  });
  it('refuses an oversized length before allocating', () => {
    const b = Uint8Array.from(good);
    new DataView(b.buffer).setUint32(8, 0xffff_ffff);
    assert.throws(
      () => decodeFrame(b),
      (e: unknown) => e instanceof FrameError && e.reason === 'too-large',
    );
  });
});

describe('codec - FrameReader', () => {
  it('reassembles frames from chunks of any size', () => {
    const seed = testSeed();
    const r = rng(seed);
    const payloads = Array.from({ length: 50 }, (_, i) => encode({ i, pad: r.bytes(r.int(300)) }));
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = 1 + r.int(97);
      for (const f of reader.push(stream.subarray(at, at + n))) got.push(f.payload);
      at += n;
    }
    assert.equal(reader.buffered, 0, replayHint(seed, 'frame'));
    assert.deepEqual(got.map(toHex), payloads.map(toHex), replayHint(seed, 'frame'));
  });
  it('names the stream offset of a bad frame, then refuses more input', () => {
    const reader = new FrameReader();
    const one = encodeFrame(encode('ok'));
    const bad = Uint8Array.from(one);
    bad[bad.length - 1]! ^= 0xff;
    assert.equal(reader.push(one).length, 1);
    assert.throws(
      () => reader.push(bad),
      (e: unknown) => e instanceof FrameChecksumError && e.offset === one.length,
    );
    assert.throws(
      () => reader.push(one),
      (e: unknown) => e instanceof FrameError && e.reason === 'stream-failed',
    );
  });
  it('fuzz: random and mutated streams yield frames or typed frame errors only', () => {
    const seed = testSeed();
    const r = rng(seed);
    const n = iterations(10_000, 1_000_000);
    for (let i = 0; i < n; i++) {
      let b: Uint8Array = encodeFrame(encode({ n: i, b: r.bytes(r.int(16)) }));
      if (r.next() < 0.3) b = r.bytes(r.int(64));
      else if (r.next() < 0.8) b[r.int(b.length)]! ^= 1 << r.int(8);
      else b = b.subarray(0, r.int(b.length));
      try {
        decodeFrame(b, 1024);
        new FrameReader(1024).push(b);
      } catch (e) {
        if (!(e instanceof FrameError || e instanceof FrameChecksumError)) {
          throw new Error(`untyped error ${String(e)}; ${replayHint(seed, 'frame')}`, { cause: e });
        }
      }
    }
  });
});

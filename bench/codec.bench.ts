import { Encoder } from 'cbor-x';
import { decode as cborgDecode, encode as cborgEncode, rfc8949EncodeOptions } from 'cborg';
import { blake3, decode, encode } from '../src/codec/index.js';
import { type Comparison, compare } from './harness.js';

/** The message-plane envelope of DESIGN §6 with a 256-byte payload and a 64-byte signature. */
export function sampleEnvelope(): Record<string, unknown> {
  const payload = new Uint8Array(256);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  return {
    v: 1,
    id: '0b3f6c1e-8a55-4c3e-9d7e-2f5a9e1c4b70',
    sender: 'agent-analyzer-7',
    ts: 1_234_567,
    seq: 4211,
    topic: 'jit.sws.5f0c2a9d4e7b8a1c3d6e9f0a1b2c3d4e.patch',
    payload,
    sig: new Uint8Array(64).fill(7),
  };
}

export function codecBenches(): Comparison[] {
  const env = sampleEnvelope();
  const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });
  const ours = encode(env as never);
  const results: Comparison[] = [];
  results.push(
    compare(
      'canonical encode vs cbor-x (non-canonical)',
      () => encode(env as never),
      () => cborx.encode(env),
    ),
  );
  results.push(
    compare(
      'canonical encode vs cborg (rfc8949 options)',
      () => encode(env as never),
      () => cborgEncode(env, rfc8949EncodeOptions),
    ),
  );
  const strict = {
    strict: true,
    rejectDuplicateMapKeys: true,
    allowIndefinite: false,
    allowUndefined: false,
  };
  results.push(
    compare(
      'strict decode vs cborg strict decode',
      () => decode(ours),
      () => cborgDecode(ours, strict),
    ),
  );
  return results;
}

export { blake3 };

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Numbered } from '../../src/dashboard/live.js';
import {
  eventsFrame,
  helloFrame,
  resyncFrame,
  type Tick,
  tickFrame,
} from '../../src/dashboard/sse.js';
import { parseSse } from '../helpers/sse.js';

const golden = new URL('../../../test/fixtures/dashboard/sse-v1.txt', import.meta.url);

/** One live event of every type, numbered on from 41. */
const events: Numbered[] = [
  { type: 'sws', sws: '00112233445566778899aabbccddeeff', op: 'apply_patch', by: 'alice', n: 42 },
  { type: 'ref', ref: 'main', n: 43 },
  { type: 'audit', seq: 7, n: 44 },
  { type: 'policy', n: 45 },
  { type: 'negotiation', conversation: 'c-1', kind: 'propose', from: 'bob', n: 46 },
  { type: 'finding', sws: '00112233445566778899aabbccddeeff', from: 'lint', n: 47 },
  { type: 'agent', agent: 'carol', joined: true, n: 48 },
  { type: 'kernel', event: 'rejected', detail: 'bad-signature from mallory', n: 49 },
];

const tick: Tick = {
  t: 1_795_000_000_000,
  rates: { patches: 12, messages: 340 },
  latency: { patch: { p50: 1.5, p99: 9.25 }, sync: null },
  agents: [
    {
      agent: 'alice',
      card: { capabilities: ['lint'] },
      health: 'healthy',
      securityLevel: 2,
      rate: 3,
      messages: 120,
      silentMs: 250,
    },
  ],
  negotiations: [
    {
      conversation: 'c-1',
      initiator: 'bob',
      responder: 'alice',
      state: 'proposed',
      action: 'review',
      steps: 1,
      ageMs: 40,
    },
  ],
  open: 1,
  n: 49,
};

/** A stream as a page might hear it: hello, a batch, a tick, a resync, a batch of one. */
function stream(): string {
  return [
    helloFrame(41),
    eventsFrame(events.slice(0, 7)),
    tickFrame(tick),
    resyncFrame(48),
    eventsFrame(events.slice(7)),
  ].join('');
}

describe('dashboard live stream format', () => {
  it('matches the golden stream byte for byte', () => {
    const text = stream();
    if (process.env.JIT_WRITE_FIXTURES === '1') writeFileSync(golden, text);
    assert.equal(
      text,
      readFileSync(golden, 'utf8'),
      'the dashboard stream changed: if on purpose, update web/src/stream.ts, version the file and write it with JIT_WRITE_FIXTURES=1',
    );
  });

  it('reads back, as an EventSource reads it, into what the page expects', () => {
    const { events: got, rest } = parseSse(readFileSync(golden, 'utf8'));
    assert.equal(rest, '');
    assert.deepEqual(
      got.map((e) => [e.event, e.id]),
      [
        ['hello', undefined],
        ['events', '48'],
        ['tick', undefined],
        ['resync', undefined],
        ['events', '49'],
      ],
    );
    assert.equal(Number(got[0]!.data), 41);
    assert.deepEqual(JSON.parse(got[1]!.data), events.slice(0, 7));
    assert.deepEqual(JSON.parse(got[2]!.data), tick);
    assert.equal(Number(got[3]!.data), 48);
    assert.deepEqual(JSON.parse(got[4]!.data), events.slice(7));
    // numbered without holes from the hello on, as the page checks
    const numbers = [got[1]!, got[4]!].flatMap((e) =>
      (JSON.parse(e.data) as Numbered[]).map((x) => x.n),
    );
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => 42 + i),
    );
  });

  it('keeps every event on one data line, whatever its text holds', () => {
    const odd: Numbered = { type: 'kernel', event: 'x', detail: 'two\nlines\r\nand: colons', n: 1 };
    const { events: got } = parseSse(eventsFrame([odd]));
    assert.equal(got.length, 1);
    assert.deepEqual(JSON.parse(got[0]!.data), [odd]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '../../src/codec/index.js';
import { KeyPair, keySigner, staticVerifier } from '../../src/identity/index.js';
import {
  checkSignature,
  type Delivery,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  type Gap,
  KERNEL_AGENT,
  MemoryBroker,
  type Message,
  Plane,
  type Rejection,
  Reorder,
  seal,
  signingBytes,
} from '../../src/mp/index.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

const alice = KeyPair.generate();
const mallory = KeyPair.generate();
const kernel = KeyPair.generate();
const verifier = staticVerifier([
  ['alice', alice.publicKey],
  [KERNEL_AGENT, kernel.publicKey],
]);

async function setup(): Promise<{
  broker: MemoryBroker;
  a: Plane;
  c: Plane;
  rejected: Rejection[];
}> {
  const broker = new MemoryBroker();
  const a = await Plane.open({
    transport: broker.connect(),
    sender: 'alice',
    signer: keySigner('alice', alice),
    verifier,
  });
  const c = await Plane.open({ transport: broker.connect(), sender: 'alice', verifier });
  const rejected: Rejection[] = [];
  c.onReject((r) => rejected.push(r));
  return { broker, a, c, rejected };
}

describe('plane: the authorize hook', () => {
  it("is told each message's exact encoded size, in process without its bytes too, and its refusals drop", async () => {
    const broker = new MemoryBroker();
    // unsigned: the memory transport hands the envelope over without encoding it
    const pub = await Plane.open({ transport: broker.connect(), sender: 'bob' });
    const asked: { sender: string; topic: string; bytes: number }[] = [];
    const sub = await Plane.open({
      transport: broker.connect(),
      sender: 'sub',
      authorize: (sender, topic, bytes) => {
        asked.push({ sender, topic, bytes });
        return topic.endsWith('.no') ? { refuse: 'denied', detail: 'not this one' } : undefined;
      },
    });
    const rejected: Rejection[] = [];
    sub.onReject((r) => rejected.push(r));
    const got: Message[] = [];
    await sub.subscribe('t.>', (m) => void got.push(m));
    const payloads = [{ i: 1 }, { body: 'é'.repeat(40), list: [1.5, null, true] }, 'x'.repeat(300)];
    for (const p of payloads) await pub.publish('t.yes', p);
    await pub.publish('t.no', { i: 2 });
    for (let i = 0; i < 50 && got.length + rejected.length < 4; i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      got.map((m) => m.payload),
      payloads,
    );
    assert.deepEqual(
      asked.slice(0, 3).map((a) => a.bytes),
      got.map((m) => encodeEnvelope(m.envelope).length),
    );
    assert.deepEqual(
      asked.map((a) => [a.sender, a.topic]),
      [
        ['bob', 't.yes'],
        ['bob', 't.yes'],
        ['bob', 't.yes'],
        ['bob', 't.no'],
      ],
    );
    assert.deepEqual(
      rejected.map((r) => [r.reason, r.topic]),
      [['denied', 't.no']],
    );
    await pub.close();
    await sub.close();
  });
});

describe('plane: what is dropped, counted and reported', () => {
  it('drops forged, misaddressed, unknown, replayed, unsigned and garbage messages; delivers the good one', async () => {
    const { broker, a, c, rejected } = await setup();
    const topic = 'jit.sws.s1.patch';
    const got: Message[] = [];
    await c.subscribe('jit.>', (m) => void got.push(m));
    const raw = broker.connect();
    const { envelope, bytes } = a.envelope(topic, { good: false });
    // forged: the payload changed after signing
    await raw.publish(topic, encodeEnvelope({ ...envelope, payload: { good: 'forged' } }));
    // wrong topic: a signed message re-published under another topic
    await raw.publish('jit.sws.s2.patch', bytes);
    // unknown sender: signed by a key the trust store does not know
    const m: Envelope = { ...envelope, sender: 'mallory', payload: { who: 'mallory' } };
    await raw.publish(topic, encodeEnvelope(seal(m, keySigner('mallory', mallory))));
    // unsigned, where signatures are required
    const { sig: _, ...unsigned } = envelope;
    await raw.publish(topic, encodeEnvelope(unsigned));
    // garbage
    await raw.publish(topic, new Uint8Array([1, 2, 3]));
    await raw.publish(topic, encode({ v: 1 }));
    // a kernel topic from someone who is not the kernel
    await a.publish('jit.kernel.events', { fake: true });
    // the genuine message, then a replay of it
    await raw.publish(topic, bytes);
    await raw.publish(topic, bytes);
    while (rejected.length < 8) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      got.map((m) => [m.topic, m.payload]),
      [[topic, { good: false }]],
    );
    assert.deepEqual(rejected.map((r) => r.reason).sort(), [
      'bad-signature',
      'duplicate',
      'malformed',
      'malformed',
      'not-kernel',
      'unknown-sender',
      'unsigned',
      'wrong-topic',
    ]);
    assert.equal(c.stats.rejected.duplicate, 1);
    assert.equal(c.stats.rejected['not-kernel'], 1);
    await a.close();
    await c.close();
  });

  it('refuses expired messages, expiries too far ahead, and (when required) none at all', async () => {
    const { broker, a, c, rejected } = await setup();
    const strict = await Plane.open({
      transport: broker.connect(),
      sender: 'k',
      verifier,
      requireExpiry: true,
    });
    const strictRejected: Rejection[] = [];
    strict.onReject((r) => strictRejected.push(r));
    const topic = 'jit.sws.s9.patch';
    const got: Message[] = [];
    await c.subscribe(topic, (m) => void got.push(m));
    await strict.subscribe(topic, () => undefined);
    const raw = broker.connect();
    const signer = keySigner('alice', alice);
    const fresh = a.envelope(topic, { n: 1 });
    assert.ok(fresh.envelope.exp! > Date.now(), 'the plane sets an expiry');
    // the same message a day later: its expiry passed (it cannot be moved: it is signed)
    const old = seal(
      { ...a.envelope(topic, { n: 2 }).envelope, exp: Date.now() - 86_400_000 },
      signer,
    );
    const ahead = seal(
      { ...a.envelope(topic, { n: 3 }).envelope, exp: Date.now() + 86_400_000 },
      signer,
    );
    const { exp: _e, ...noExp } = a.envelope(topic, { n: 4 }).envelope;
    await raw.publish(topic, encodeEnvelope(old));
    await raw.publish(topic, encodeEnvelope(ahead));
    await raw.publish(topic, encodeEnvelope(seal(noExp as Envelope, signer)));
    await raw.publish(topic, fresh.bytes);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      rejected.map((r) => [r.reason, r.detail?.replace(/\d+ s ago/, 'N s ago')]),
      [
        ['expired', 'it expired N s ago'],
        ['expired', 'its expiry is more than 10 min ahead'],
      ],
    );
    assert.deepEqual(
      got.map((m) => (m.payload as { n: number }).n),
      [4, 1],
      'no expiry is fine where none is required',
    );
    assert.deepEqual(
      strictRejected.map((r) => r.reason),
      ['expired', 'expired', 'expired'],
    );
    await assert.rejects(
      Plane.open({ transport: broker.connect(), sender: 'x', ttlMs: 3_600_000 }),
      /ttlMs must be/,
    );
    for (const p of [a, c, strict]) await p.close();
  });

  it('renews the expiry of a command it is still retrying: same id and seq, later exp', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({
      transport: broker.connect(),
      sender: 'alice',
      signer: keySigner('alice', alice),
      verifier,
      ttlMs: 100,
    });
    const copies: Envelope[] = [];
    const watch = await broker.connect().subscribe('jit.sws.s8.patch');
    void (async () => {
      for await (const d of watch) {
        copies.push(decodeEnvelope(d.data));
        d.ack();
      }
    })();
    const ac = new AbortController();
    const pending = a
      .command(
        'jit.sws.s8.patch',
        { n: 1 },
        { statusTopic: 'jit.sws.s8.status', signal: ac.signal, firstRetryMs: 150 },
      )
      .catch(() => 'aborted');
    for (let i = 0; i < 200 && copies.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    assert.equal(await pending, 'aborted');
    assert.ok(copies.length >= 3, `${copies.length} copies`);
    const first = copies[0]!;
    const last = copies.at(-1)!;
    assert.deepEqual(last.id, first.id);
    assert.equal(last.seq, first.seq);
    assert.ok(last.exp! > first.exp!, 'a later expiry');
    assert.equal(checkSignature(last, verifier), 'ok');
    await watch.close();
    await a.close();
  });

  it('puts a stream back in seq order and reports a gap after the timeout', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({ transport: broker.connect(), sender: 'alice' });
    const c = await Plane.open({ transport: broker.connect(), sender: 'c', gapTimeoutMs: 50 });
    const gaps: Gap[] = [];
    c.onGap((g) => gaps.push(g));
    const sub = await c.subscribe('t');
    const raw = broker.connect();
    const es = [1, 2, 3, 4, 5].map((i) => a.envelope('t', { i }).bytes);
    // 1, then 3 and 2 swapped, then 5 (4 is lost)
    for (const i of [0, 2, 1, 4]) await raw.publish('t', es[i]!);
    const seen: number[] = [];
    for await (const m of sub) {
      seen.push((m.payload as { i: number }).i);
      if (seen.length === 4) break;
    }
    assert.deepEqual(seen, [1, 2, 3, 5]);
    assert.deepEqual(gaps, [{ topic: 't', sender: 'alice', from: 4, to: 4 }]);
    await a.close();
    await c.close();
  });
});

/** Waits until `cond` holds, for up to 5 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'timed out waiting');
}

describe('plane: batch signatures', () => {
  it('signs a burst with one signature: every message verified, in order, on several topics', async () => {
    const { a, c, rejected } = await setup();
    const got: Message[] = [];
    await c.subscribe('b.>', (m) => void got.push(m));
    const sent = await Promise.all(
      Array.from({ length: 300 }, (_, i) => a.publish(i % 3 === 0 ? 'b.x' : 'b.y', { i })),
    );
    await until(() => got.length === 300);
    // 300 publishes in one synchronous run: batches of 256 and 44, so two signature checks
    assert.equal(c.batchStats.signatures, 2);
    assert.equal(rejected.length, 0);
    assert.ok(sent.every((e) => e.batch !== undefined && e.sig === undefined));
    for (const t of ['b.x', 'b.y']) {
      const seqs = got.filter((m) => m.topic === t).map((m) => m.envelope.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, k) => k + 1),
        `${t} in seq order`,
      );
    }
    await a.close();
    await c.close();
  });

  it('lets each member of a group verify its share of a batch on its own; refuses a changed one', async () => {
    const { broker, a } = await setup();
    const members = await Promise.all(
      [0, 1].map(() => Plane.open({ transport: broker.connect(), sender: 'w', verifier })),
    );
    const got: Message[][] = [[], []];
    for (const [k, m] of members.entries())
      await m.subscribe('g.t', (x) => void got[k]!.push(x), { group: 'workers', ordered: false });
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.publish('g.t', { i })));
    await until(() => got[0]!.length + got[1]!.length === 100);
    assert.ok(got[0]!.length > 0 && got[1]!.length > 0, 'both members had a share');
    // a message of the batch with its payload changed and its proof kept
    const genuine = got[0]![0]!.envelope;
    const changed = { ...genuine, id: new Uint8Array(16).fill(7), payload: { i: -1 } };
    const forged = encodeEnvelope({
      ...changed,
      batch: { ...genuine.batch!, signed: signingBytes(changed) },
    });
    const rejected: Rejection[] = [];
    members[0]!.onReject((r) => rejected.push(r));
    members[1]!.onReject((r) => rejected.push(r));
    await broker.connect().publish('g.t', forged);
    await until(() => rejected.length === 1);
    assert.equal(rejected[0]!.reason, 'bad-signature');
    await a.close();
    for (const m of members) await m.close();
  });

  it('signs each message on its own with batch: 1, and refuses a batch size out of range', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({
      transport: broker.connect(),
      sender: 'alice',
      signer: keySigner('alice', alice),
      batch: 1,
    });
    const e = await a.publish('b.one', 1);
    assert.ok(e.sig !== undefined && e.batch === undefined);
    assert.equal(checkSignature(e, verifier), 'ok');
    await a.close();
    for (const batch of [0, 4097, 1.5])
      await assert.rejects(
        Plane.open({ transport: broker.connect(), sender: 'alice', batch }),
        /batch must be 1 to 4096 messages/,
      );
  });
});

describe('plane: checking under load', () => {
  const bob = KeyPair.generate();
  const both = staticVerifier([
    ['alice', alice.publicKey],
    ['bob', bob.publicKey],
  ]);

  /** A plane on `broker` that signs each message on its own as `agent`. */
  const signsEach = (broker: MemoryBroker, agent: string, key: KeyPair): Promise<Plane> =>
    Plane.open({
      transport: broker.connect(),
      sender: agent,
      signer: keySigner(agent, key),
      batch: 1,
    });

  it("checks round-robin by sender with fair: one sender's backlog does not stand in front of another", async () => {
    for (const fair of [true, false]) {
      // one FIFO per group, as a broker stream holds it: the memory broker's own turn-taking
      // among publishers would hide what the plane does
      const broker = new MemoryBroker({ fairPublishers: false });
      const group = `g-${fair}`;
      // the group exists before the backlog is published, so it keeps it
      const early = await broker.connect().subscribe('f.t', { group });
      await early.close();
      const a = await signsEach(broker, 'alice', alice);
      const b = await signsEach(broker, 'bob', bob);
      await Promise.all(Array.from({ length: 100 }, (_, i) => a.publish('f.t', { i })));
      await b.publish('f.t', { i: 'bob' });
      const c = await Plane.open({ transport: broker.connect(), sender: 'c', verifier: both });
      const order: string[] = [];
      await c.subscribe('f.t', (m) => void order.push(m.sender), { group, fair, maxInFlight: 512 });
      await until(() => order.length === 101);
      const at = order.indexOf('bob');
      if (fair) assert.ok(at <= 1, `bob's message checked at ${at} with fair`);
      else assert.equal(at, 100, 'in arrival order without fair');
      for (const p of [a, b, c]) await p.close();
    }
  });

  it('lets the event loop in during a run of messages that give nothing out', async () => {
    let verified = 0;
    const counting = {
      verify: (agent: string, m: Uint8Array, sig: Uint8Array) => {
        verified++;
        return both.verify(agent, m, sig);
      },
    };
    const broker = new MemoryBroker();
    const a = await signsEach(broker, 'alice', alice);
    const c = await Plane.open({
      transport: broker.connect(),
      sender: 'c',
      verifier: counting,
      gapTimeoutMs: 60_000,
    });
    await c.subscribe('h.t', () => undefined);
    // seq 2 never comes: everything after it is held, so no message is given out
    const all = Array.from({ length: 201 }, (_, i) => a.envelope('h.t', { i }).bytes);
    const raw = broker.connect();
    await raw.publish('h.t', all[0]!);
    await until(() => verified === 1);
    const held = all.slice(2);
    verified = 0;
    let atImmediate = -1;
    setImmediate(() => {
      atImmediate = verified;
    });
    // published one after another in one chain of microtasks, as jitd's relay does
    for (const bytes of held) await raw.publish('h.t', bytes);
    await until(() => verified === held.length);
    assert.ok(
      atImmediate >= 0 && atImmediate < held.length / 2,
      `${atImmediate} of ${held.length} checked before the event loop had a turn`,
    );
    await a.close();
    await c.close();
    await raw.close();
  });
});

describe('plane: dead letters', () => {
  it('dead-letters in stream order: the stream goes on with no gap, and 0 means never', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({ transport: broker.connect(), sender: 'alice' });
    const watcher = await Plane.open({ transport: broker.connect(), sender: 'w' });
    const letters: Message[] = [];
    await watcher.subscribe('jit.dead.>', (m) => void letters.push(m));
    const first = await Plane.open({ transport: broker.connect(), sender: 'c' });
    const it1 = (await first.subscribe('t', { group: 'g', maxInFlight: 1 }))[
      Symbol.asyncIterator
    ]();
    for (const i of [1, 2, 3]) await a.publish('t', { i });
    assert.deepEqual(((await it1.next()).value as Message).payload, { i: 1 });
    await first.transport.close(); // i=1 handed out once, not acknowledged

    // a limit of 0 never dead-letters: i=1 comes a second time
    const never = await Plane.open({ transport: broker.connect(), sender: 'c' });
    const it2 = (await never.subscribe('t', { group: 'g', maxInFlight: 1, maxDeliveries: 0 }))[
      Symbol.asyncIterator
    ]();
    const again = (await it2.next()).value as Message;
    assert.deepEqual([again.payload, again.deliveries], [{ i: 1 }, 2]);
    await never.transport.close();

    const c = await Plane.open({ transport: broker.connect(), sender: 'c', gapTimeoutMs: 50 });
    const gaps: Gap[] = [];
    c.onGap((g) => gaps.push(g));
    const got: unknown[] = [];
    await c.subscribe('t', (m) => void got.push(m.payload), { group: 'g', maxDeliveries: 2 });
    while (got.length < 2 || letters.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, [{ i: 2 }, { i: 3 }]);
    assert.deepEqual(
      letters.map((m) => [m.topic, (m.payload as { deliveries: number }).deliveries]),
      [['jit.dead.t', 3]],
    );
    assert.equal(c.stats.deadLettered, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(gaps, [], 'a dead letter is not a gap');
    await Promise.all([a, watcher, c].map((p) => p.close()));
  });

  it('runs callbacks concurrently: started in delivery order, each acknowledged when it settles', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({ transport: broker.connect(), sender: 'alice' });
    const c = await Plane.open({ transport: broker.connect(), sender: 'c' });
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const sub = await c.subscribe(
      't',
      async (m) => {
        started.push((m.payload as { i: number }).i);
        most = Math.max(most, ++running);
        // later ones finish first: acknowledgements come out of order
        await new Promise((r) => setTimeout(r, 20 - ((m.payload as { i: number }).i % 4) * 5));
        running--;
      },
      { group: 'g', concurrency: 4 },
    );
    for (let i = 0; i < 40; i++) await a.publish('t', { i });
    while (started.length < 40 || running > 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      started,
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(most, 4, 'at most 4 at once, and 4 reached');
    await sub.close();
    // every one was acknowledged: a new member of the group gets nothing back
    const again = await Plane.open({ transport: broker.connect(), sender: 'c' });
    const got: unknown[] = [];
    await again.subscribe('t', (m) => void got.push(m.payload), { group: 'g' });
    await a.publish('t', { i: 'last' });
    while (got.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, [{ i: 'last' }]);
    await Promise.all([a, c, again].map((p) => p.close()));
  });

  it('in process and unsigned: hands over the envelope, makes its bytes only when asked; refuses what cannot go at publish', async () => {
    const broker = new MemoryBroker();
    const a = await Plane.open({ transport: broker.connect(), sender: 'a' });
    const c = await Plane.open({ transport: broker.connect(), sender: 'c' });
    const sub = await c.subscribe('t');
    const it = sub[Symbol.asyncIterator]();
    const raw = await broker.connect().subscribe('t'); // a transport subscription: bytes
    const sent = await a.publish('t', { n: 1, s: 'héllo' });
    const m = (await it.next()).value as Message;
    assert.equal(m.envelope, sent, 'the very envelope, not a decoded copy');
    const d = (await raw[Symbol.asyncIterator]().next()).value as Delivery;
    assert.deepEqual(d.data, encodeEnvelope(sent), 'its bytes, made on demand, are its encoding');
    assert.deepEqual(decodeEnvelope(d.data).payload, { n: 1, s: 'héllo' });
    await raw.close();
    // what the encoder refuses is refused at publish, with the encoder's typed error, and takes
    // no sequence number
    await assert.rejects(a.publish('t', { bad: [undefined] } as never), {
      name: 'CborEncodeError',
    });
    await assert.rejects(a.publish('t', { bad: 'x\ud800' }), { name: 'CborEncodeError' });
    await assert.rejects(a.publish('t', new Uint8Array(4 * 1024 * 1024)), {
      name: 'PayloadTooLargeError',
    });
    // over what the quick bound can vouch for (3 bytes a character), within the limit in fact
    const big = 'x'.repeat(1_500_000);
    const e2 = await a.publish('t', big);
    assert.equal(e2.seq, 2, 'the refused publishes used no sequence number');
    const m2 = (await it.next()).value as Message;
    assert.equal(m2.payload, big);
    await Promise.all([a.close(), c.close()]);
  });

  it('refuses a bad maxDeliveries or dead-letter topic with a typed error, subscribing nothing', async () => {
    const broker = new MemoryBroker();
    const c = await Plane.open({ transport: broker.connect(), sender: 'c' });
    await assert.rejects(c.subscribe('t', { maxDeliveries: -1 }), { name: 'PlaneOptionError' });
    await assert.rejects(c.subscribe('t', { maxDeliveries: 1.5 }), { name: 'PlaneOptionError' });
    await assert.rejects(c.subscribe('t', { deadLetterTopic: 'a.*' }), { name: 'TopicError' });
    await assert.rejects(c.subscribe('t', { concurrency: 0 }), { name: 'PlaneOptionError' });
    await assert.rejects(c.subscribe('t', { filter: () => true }), { name: 'PlaneOptionError' });
    const a = await Plane.open({ transport: broker.connect(), sender: 'a' });
    await a.publish('t', { nobody: 'listens' }); // a subscription would have held it: none did
    const sub = await c.subscribe('t');
    await a.publish('t', { now: true });
    const m = (await sub[Symbol.asyncIterator]().next()).value as Message;
    assert.deepEqual(m.payload, { now: true });
    await Promise.all([a.close(), c.close()]);
  });
});

describe('plane: the table of streams a subscription orders', () => {
  it('forgets idle streams past streamsKept, keeps a stream that holds messages, and orders on', async () => {
    const broker = new MemoryBroker();
    const c = await Plane.open({ transport: broker.connect(), sender: 'sub', streamsKept: 2 });
    const got: string[] = [];
    await c.subscribe('t.>', (m) => void got.push(`${m.topic}:${(m.payload as { n: number }).n}`));
    const pub = await Plane.open({ transport: broker.connect(), sender: 'pub' });
    const raw = broker.connect();
    // stream t.held: 1 goes out, 3 is held waiting for 2 (so its stream is not idle)
    const held = [1, 2, 3].map((i) => pub.envelope('t.held', { n: i }));
    await raw.publish('t.held', held[0]!.bytes);
    await raw.publish('t.held', held[2]!.bytes);
    // four more streams, each in order: the table fills and the idle ones are forgotten
    for (const t of ['t.a', 't.b', 't.c', 't.a']) await pub.publish(t, { n: 1 });
    await until(() => got.length === 5);
    assert.ok(c.stats.streamsForgotten >= 2, `forgot ${c.stats.streamsForgotten}`);
    // the held stream was kept: 2 fills its gap and 2, 3 go out in order, with no gap reported
    await raw.publish('t.held', held[1]!.bytes);
    await until(() => got.length === 7);
    assert.deepEqual(got.slice(-2), ['t.held:2', 't.held:3']);
    assert.equal(c.stats.gaps, 0);
    // a forgotten stream that speaks again goes on in order
    for (const n of [2, 3]) await pub.publish('t.b', { n });
    await until(() => got.length === 9);
    assert.deepEqual(got.slice(-2), ['t.b:2', 't.b:3']);
    await assert.rejects(Plane.open({ transport: broker.connect(), sender: 'x', streamsKept: 0 }), {
      name: 'PlaneOptionError',
    });
    await Promise.all([pub.close(), c.close()]);
  });
});

describe('reorder buffer', () => {
  it('releases in order, reports a gap when the bound is passed, and calls the past stale', () => {
    const r = new Reorder<number>(2);
    assert.deepEqual(r.offer(10, 10), { out: [10] });
    assert.deepEqual(r.offer(12, 12), { out: [] });
    assert.deepEqual(r.offer(13, 13), { out: [] });
    assert.deepEqual(r.offer(14, 14), { out: [12, 13, 14], gap: { from: 11, to: 11 } });
    // 11 was reported missing, so when it comes after all it goes out (late), once
    assert.deepEqual(r.offer(11, 11, true), { out: [11], late: true });
    assert.equal(r.offer(11, 11, true), 'stale');
    assert.equal(r.offer(13, 13, true), 'stale', 'a redelivery of one delivered already');
    assert.deepEqual(r.offer(15, 15), { out: [15] });
  });

  it('takeNext takes exactly what offer would give out at once, over random streams (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    for (let round = 0; round < iterations(50, 2000); round++) {
      const fast = new Reorder<number>(4);
      const plain = new Reorder<number>(4);
      let next = 1 + r.int(5);
      let ep = r.int(2);
      for (let i = 0; i < 200; i++) {
        // mostly the next one; now and then ahead, behind, a repeat or a new epoch
        const k = r.int(10);
        if (k === 0) ep++;
        const seq = k === 1 ? next + 1 + r.int(3) : k === 2 ? Math.max(1, next - r.int(3)) : next;
        if (k >= 3 || k === 0) next = seq + 1;
        const again = r.int(8) === 0;
        const got = fast.takeNext(seq, ep) ? { out: [i] } : fast.offer(seq, i, again, ep);
        const want = plain.offer(seq, i, again, ep);
        if (JSON.stringify(got) !== JSON.stringify(want))
          assert.fail(
            `round ${round}, step ${i}: seq ${seq} ep ${ep}: ${JSON.stringify(got)}, offer alone ${JSON.stringify(want)}. ${replayHint(seed, 'takeNext')}`,
          );
      }
    }
  });

  it('delivers redeliveries from before the first message seen (late), and calls delivered ones stale', () => {
    const r = new Reorder<number>(8);
    assert.deepEqual(r.offer(9, 9), { out: [9] }); // a member that joined late saw 9 first
    for (const s of [2, 3, 4]) assert.deepEqual(r.offer(s, s, true), { out: [s], late: true });
    assert.equal(r.offer(3, 3, true), 'stale');
    assert.equal(r.offer(9, 9, true), 'stale');
    assert.deepEqual(r.offer(10, 10), { out: [10] });
  });

  it('starts a stream anew when its sender restarts, even if its first new messages were missed', () => {
    const r = new Reorder<number>(8);
    for (const s of [1, 2, 3]) assert.deepEqual(r.offer(s, s), { out: [s] });
    assert.deepEqual(r.offer(1, 100), { out: [100] });
    assert.deepEqual(r.offer(2, 200), { out: [200] });
    for (let s = 3; s <= 50; s++) r.offer(s, s);
    // the sender restarts; its seq 1..4 never reach this subscriber
    assert.deepEqual(r.offer(5, 500), { out: [500] });
    assert.deepEqual(r.offer(6, 600), { out: [600] });
  });

  it('delivers late a fresh copy of a message from a gap (a command refused upstream and sent again)', () => {
    const r = new Reorder<number>(4);
    for (const s of [1, 2]) r.offer(s, s);
    // 3..6 were refused on the way (the relay's rate limit); 7.. arrive and the gap is given up
    for (const s of [7, 8, 9, 10]) assert.deepEqual(r.offer(s, s), { out: [] });
    assert.deepEqual(r.offer(11, 11), { out: [7, 8, 9, 10, 11], gap: { from: 3, to: 6 } });
    // the outbox sends 3..6 again: fresh copies, not redeliveries
    for (const s of [3, 4, 5, 6]) assert.deepEqual(r.offer(s, s), { out: [s], late: true });
    assert.equal(r.offer(4, 4), 'stale', 'once delivered late, a second copy is stale');
  });

  it('lets out what an old stream held when its sender restarts, rather than losing it', () => {
    const r = new Reorder<number>(8);
    for (const s of [1, 2, 3]) r.offer(s, s);
    assert.deepEqual(r.offer(5, 5), { out: [] }); // held for 4
    // the sender restarts from 1: 5 was checked and taken, and goes out first
    assert.deepEqual(r.offer(1, 100), { out: [5, 100] });
    assert.deepEqual(r.offer(2, 200), { out: [200] });
  });

  it('with stream epochs: a larger epoch starts the stream anew, a copy behind the stream is stale, an older stream is late', () => {
    const r = new Reorder<number>(8);
    for (const s of [1, 2, 3]) assert.deepEqual(r.offer(s, s, false, 1000), { out: [s] });
    assert.deepEqual(r.offer(5, 5, false, 1000), { out: [] }); // held for 4
    // a fresh copy of 2 (the duplicate window forgot it): in the same epoch it is no restart
    assert.equal(r.offer(2, 2, false, 1000), 'stale');
    assert.equal(r.offer(1, 1, false, 1000), 'stale');
    // the sender restarts (epoch 2000) and its first message here is 3: a new stream, not stale;
    // what the old one held goes out first
    assert.deepEqual(r.offer(3, 300, false, 2000), { out: [5, 300] });
    assert.deepEqual(r.offer(4, 400, false, 2000), { out: [400] });
    // 4 of the old stream, redelivered after the restart: never delivered here, so it goes out
    assert.deepEqual(r.offer(4, 4, true, 1000), { out: [4], late: true });
    assert.equal(r.offer(3, 300, false, 2000), 'stale');
    assert.deepEqual(r.offer(5, 500, false, 2000), { out: [500] });
  });
});

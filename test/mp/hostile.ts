/**
 * The hostile-agent suite (issue 6), run on jitd's own relay and on every broker: forged
 * signatures, unbound keys, impersonating the kernel, replays (same topic, other topic, an older
 * stream), ACL bypass on the plane, a sandboxed agent trying to commit, garbage commands, and a
 * fuzzer of malformed envelopes. Each attempt is refused with its reason, counted, reported on `jit.kernel.events`, and
 * the kernel's digests do not move.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../src/codec/index.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair, keySigner } from '../../src/identity/index.js';
import {
  type Envelope,
  encodeEnvelope,
  type Message,
  NativeTransport,
  openTransport,
  seal,
  sealBatch,
  signingBytes,
  Topics,
  type Transport,
} from '../../src/mp/index.js';
import { type RemoteError, RpcClient } from '../../src/rpc/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

export interface HostileOptions {
  readonly name: string;
  readonly skip?: string | false;
  /** jitd's `--plane` URL; absent: jitd's own relay (native). */
  readonly plane?: string;
  /** Malformed envelopes the fuzzer sends (the broker's queue limits may ask for fewer). */
  readonly fuzz: number;
  /** Deletes what the run left on the broker. */
  readonly cleanup?: () => Promise<void>;
  /**
   * Where the hostile bytes go in, when not jitd's relay or the broker: `memory` publishes straight
   * into jitd's in-process broker, as a hostile component in jitd's process could, past every
   * check of the relay: the kernel's own subscriptions and the agents' planes must refuse it all.
   */
  readonly raw?: (jitd: Jitd) => Transport;
}

type Obj = Record<string, unknown>;

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function hostileAgentSuite(o: HostileOptions): void {
  describe(`hostile agents on ${o.name}`, { skip: o.skip ?? false }, () => {
    const tmp = tmpDirs('jit-hostile-');
    const keys = {
      alice: KeyPair.generate(),
      watcher: KeyPair.generate(),
      llm: KeyPair.generate(),
    };
    let jitd: Jitd;
    let alice: Agent;
    let watcher: Agent;
    let llm: Agent;
    /** Publishes raw bytes as a broker (or a hostile relay client) could. */
    let raw: Transport;
    const events: Message[] = [];
    /** Refusals reported so far, one by one or summarised. */
    let total = 0;

    before(async () => {
      jitd = await startJitd({ home: await tmp(), ...(o.plane ? { plane: o.plane } : {}) });
      await registerAgents(jitd.home, [
        ['alice', keys.alice],
        ['watcher', keys.watcher],
        ['llm', keys.llm, 'restricted'],
      ]);
      const connect = (agent: keyof typeof keys): Promise<Agent> =>
        Agent.connect({
          agent,
          key: keys[agent],
          plane: o.plane ?? socketPath(jitd.home),
          kernel: socketPath(jitd.home),
        });
      alice = await connect('alice');
      watcher = await connect('watcher');
      llm = await connect('llm');
      await watcher.plane.subscribe(Topics.kernelEvents, (m) => {
        events.push(m);
        const p = m.payload as Obj;
        if (p.event === 'rejected') total++;
        else if (p.event === 'rejected-many')
          for (const n of Object.values(p.counts as Record<string, number>)) total += n;
      });
      raw =
        o.raw !== undefined
          ? o.raw(jitd)
          : o.plane === undefined
            ? new NativeTransport(
                { path: socketPath(jitd.home) },
                { login: await adminSigner(jitd.home) },
              )
            : openTransport(o.plane);
      await raw.start();
    });
    after(async () => {
      for (const a of [alice, watcher, llm]) await a?.close();
      await raw?.close();
      await jitd?.stop();
      await o.cleanup?.();
    });

    const digest = (): string => `${jitd.kernel.store.digest()} ${jitd.kernel.swsSummary().digest}`;
    /** Every refusal reported, one by one or in a once-a-second summary (`rejected-many`). */
    const rejected = (): string[] =>
      events
        .map((e) => e.payload as Obj)
        .flatMap((p) =>
          p.event === 'rejected'
            ? [p.reason as string]
            : p.event === 'rejected-many'
              ? Object.entries(p.counts as Record<string, number>).flatMap(([reason, n]) =>
                  Array.from({ length: n }, () => reason),
                )
              : [],
        );

    it('refuses forged, unbound, re-topiced, expired, replayed, non-member and garbage commands; answers what it refuses', async () => {
      const sws = await alice.openSws();
      const other = await alice.openSws();
      await alice.addMember(sws, 'watcher');
      await alice.patch(sws, [{ op: 'put', path: 'kept', content: new Uint8Array([1]) }]);
      const answers: Message[] = [];
      await watcher.plane.subscribe(Topics.swsStatus(sws), (m) => void answers.push(m));
      const otherAnswers: Message[] = [];
      await alice.plane.subscribe(Topics.swsStatus(other), (m) => void otherAnswers.push(m));
      const before = digest();
      const seen = events.length;

      const topic = Topics.swsPatch(sws);
      const put = {
        patch: {
          author: 'alice',
          ops: [{ op: 'put', path: 'evil', content: new Uint8Array([6]) }],
        },
      };
      const { envelope, bytes } = alice.plane.envelope(topic, put);
      // forged: signed, then the payload changed
      await raw.publish(topic, encodeEnvelope({ ...envelope, payload: { ...put, extra: 1 } }));
      // replayed under another topic
      await raw.publish(Topics.swsPatch(other), bytes);
      // a key nobody bound
      const m: Envelope = { ...alice.plane.envelope(topic, put).envelope, sender: 'stranger' };
      await raw.publish(topic, encodeEnvelope(seal(m, keySigner('stranger', KeyPair.generate()))));
      // not an envelope, and an envelope-shaped map that is not one
      await raw.publish(topic, new Uint8Array([0xde, 0xad]));
      await raw.publish(topic, encode({ v: 1, sender: 'alice' }));
      // signed by the watcher, a member of sws but not of other: the kernel's ACL refuses it
      const intruder = watcher.plane.envelope(Topics.swsPatch(other), {
        patch: { author: 'watcher', ops: [{ op: 'put', path: 'x', content: new Uint8Array([7]) }] },
      });
      await raw.publish(Topics.swsPatch(other), intruder.bytes);
      // a batch signature (identity/batch.ts) kept, the payload under it changed
      const batched = sealBatch(
        [1, 2].map(() => {
          const e = alice.plane.envelope(topic, put).envelope;
          return { envelope: e, signed: signingBytes(e) };
        }),
        keySigner('alice', keys.alice),
      )[0]!.envelope;
      const changed = { ...batched, payload: { ...put, extra: 2 } };
      await raw.publish(
        topic,
        encodeEnvelope({ ...changed, batch: { ...batched.batch!, signed: signingBytes(changed) } }),
      );
      // a copy of a genuine command a day later: its signed expiry has passed
      const dayOld = seal(
        { ...alice.plane.envelope(topic, put).envelope, exp: Date.now() - 86_400_000 },
        keySigner('alice', keys.alice),
      );
      await raw.publish(topic, encodeEnvelope(dayOld));
      // unexpired and never seen, but from an older stream of alice's than the one the kernel has
      // taken on this topic (her "kept" patch): refused by the kernel's stream mark
      const oldStream = seal(
        { ...alice.plane.envelope(topic, put).envelope, ep: alice.plane.epoch - 1 },
        keySigner('alice', keys.alice),
      );
      await raw.publish(topic, encodeEnvelope(oldStream));
      const want = [
        'bad-signature',
        'bad-signature',
        'wrong-topic',
        'unknown-sender',
        'malformed',
        'malformed',
        'denied',
        'expired',
        'replayed',
      ];
      await until(
        () => rejected().length - seen >= want.length && otherAnswers.length >= 1,
        'the rejections and the ACL answer',
      );
      assert.deepEqual(rejected().slice(-want.length).sort(), [...want].sort());
      const denied = otherAnswers[0]!.payload as Obj;
      assert.equal(denied.re, Buffer.from(intruder.envelope.id).toString('hex'));
      assert.equal((denied.error as Obj).name, 'E_ACCESS_DENIED');
      assert.equal(digest(), before, 'nothing refused changed the kernel');

      // the genuine message, then a replay of it: run once, answered twice, reported
      await raw.publish(topic, bytes);
      await raw.publish(topic, bytes);
      // a well-signed command whose payload is garbage: refused by the kernel, answered
      const garbage = alice.plane.envelope(topic, { patch: 'not a patch' });
      await raw.publish(topic, garbage.bytes);
      const byId = (id: Uint8Array): Obj[] =>
        answers
          .map((x) => x.payload as Obj)
          .filter((p) => p.re === Buffer.from(id).toString('hex'));
      await until(
        () => byId(envelope.id).length >= 2 && byId(garbage.envelope.id).length >= 1,
        'the answers',
      );
      assert.equal((byId(garbage.envelope.id)[0]!.error as Obj).name, 'E_BAD_PAYLOAD');
      const [first, again] = byId(envelope.id);
      assert.deepEqual(first, again, 'the replay is answered again, not run again');
      assert.ok(rejected().includes('duplicate'));
      const status = (await alice.rpc!.call('shadow.status', { id: sws })) as { patches: number };
      assert.equal(status.patches, 2);
    });

    it('refuses messages that impersonate the kernel, at every subscriber', async () => {
      const fakeEvent = alice.plane.envelope(Topics.kernelEvents, { event: 'collapsed' });
      const fakeAnswer = alice.plane.envelope(Topics.swsStatus('a'.repeat(32)), {
        re: 'x',
        ok: true,
      });
      const denied = (e: unknown): boolean => (e as RemoteError).codeName === 'E_ACCESS_DENIED';
      if (o.plane === undefined && o.raw === undefined) {
        // jitd's relay lets nobody but the kernel publish there, not even an admin's connection
        await assert.rejects(raw.publish(Topics.kernelEvents, fakeEvent.bytes), denied);
        await assert.rejects(
          raw.publish(Topics.swsStatus('a'.repeat(32)), fakeAnswer.bytes),
          denied,
        );
        await assert.rejects(alice.plane.publish(Topics.kernelEvents, { event: 'x' }), denied);
      } else {
        // a broker (or jitd's broker itself) carries anything: every subscriber refuses it (only
        // the kernel signs there)
        const before = watcher.plane.stats.rejected['not-kernel'];
        await raw.publish(Topics.kernelEvents, fakeEvent.bytes);
        await until(
          () => watcher.plane.stats.rejected['not-kernel'] > before,
          'the watcher to refuse a kernel event not signed by the kernel',
        );
      }
      assert.ok(
        events.every((e) => e.sender === 'jit-kernel'),
        'every event the watcher took came from the kernel',
      );
    });

    it('keeps a restricted agent from committing or patching outside its SWS', async () => {
      const sws = await alice.openSws();
      await alice.addMember(sws, 'llm');
      await llm.patch(sws, [{ op: 'put', path: 'llm.txt', content: new Uint8Array([1]) }]);
      const before = digest();
      await assert.rejects(
        llm.commit(sws),
        (e: unknown) => (e as RemoteError).codeName === 'E_ACCESS_DENIED',
      );
      await assert.rejects(
        llm.discard(sws),
        (e: unknown) => (e as RemoteError).codeName === 'E_ACCESS_DENIED',
      );
      const elsewhere = await alice.openSws();
      const b2 = digest();
      await assert.rejects(
        llm.patch(elsewhere, [{ op: 'put', path: 'x', content: new Uint8Array([2]) }]),
        (e: unknown) => (e as RemoteError).codeName === 'E_ACCESS_DENIED',
      );
      assert.equal(digest(), b2);
      assert.notEqual(before, b2, 'only alice opening an SWS changed anything');
    });

    it("refuses, at an agent's own subscriptions, what the ACL forbids its sender to publish", async () => {
      const sws = await alice.openSws();
      await alice.addMember(sws, 'watcher');
      const findings: string[] = [];
      await watcher.findings(sws, (f) => void findings.push(`${f.author}:${f.message}`));
      const finding = (message: string) => ({
        kind: 'finding',
        path: 'a',
        severity: 'info',
        message,
      });
      const denied = (): number => watcher.plane.stats.rejected.denied;
      // signed by a sandboxed agent that is not a member: well signed, not allowed there
      let before = denied();
      await raw.publish(
        Topics.swsAnalyze(sws),
        llm.plane.envelope(Topics.swsAnalyze(sws), finding('outsider')).bytes,
      );
      await until(() => denied() > before, "the watcher to refuse a non-member's finding");
      // a member now: the same kind of message passes (the watcher hears of the change)
      await alice.addMember(sws, 'llm');
      await raw.publish(
        Topics.swsAnalyze(sws),
        llm.plane.envelope(Topics.swsAnalyze(sws), finding('member')).bytes,
      );
      await until(() => findings.includes('llm:member'), "a member's finding");
      assert.ok(!findings.includes('llm:outsider'));

      // a rule that denies alice a topic bites at the watcher's plane as soon as it is set
      const admin = await RpcClient.connect(
        { path: socketPath(jitd.home) },
        { login: await adminSigner(jitd.home) },
      );
      try {
        const set = (await admin.call('acl.set', {
          rules: [{ effect: 'deny', who: 'alice', action: 'publish', resource: 'chat.>' }],
        })) as { digest: string };
        await until(
          () => watcher.acl!.rulesDigest === set.digest,
          'the watcher to hear of the rule',
        );
        const chat: string[] = [];
        await watcher.plane.subscribe('chat.room', (m) => void chat.push(m.sender));
        before = denied();
        await raw.publish('chat.room', alice.plane.envelope('chat.room', 'hi').bytes);
        await raw.publish('chat.room', watcher.plane.envelope('chat.room', 'hello').bytes);
        await until(() => denied() > before && chat.length > 0, 'the rule to bite');
        assert.deepEqual(chat, ['watcher']);
      } finally {
        await admin.call('acl.set', { rules: [] });
        await admin.close();
      }
    });

    it(`refuses ${o.fuzz} malformed envelopes from a fuzzer, each reported, none acted on (seeded)`, async () => {
      const seed = testSeed();
      const r = rng(seed);
      const hint = replayHint(seed, `hostile on ${o.name}`);
      const sws = await alice.openSws();
      const topic = Topics.swsPatch(sws);
      const genuine = alice.plane.envelope(topic, {
        patch: { author: 'alice', ops: [{ op: 'put', path: 'f', content: new Uint8Array([1]) }] },
      }).bytes;
      const before = digest();
      const seen = total;
      const seenEvents = events.length;
      let sent = 0;
      for (let i = 0; i < o.fuzz; i++) {
        const b = new Uint8Array(genuine);
        const kind = r.int(4);
        let out: Uint8Array;
        if (kind === 0) {
          // flip 1-4 bytes
          for (let k = 0, n = 1 + r.int(4); k < n; k++) {
            const at = r.int(b.length);
            b[at] = b[at]! ^ (1 + r.int(255));
          }
          out = b;
        } else if (kind === 1)
          out = b.subarray(0, r.int(b.length)); // truncate
        else if (kind === 2)
          out = r.bytes(1 + r.int(200)); // noise
        else {
          // splice noise into the middle
          const at = r.int(b.length);
          out = new Uint8Array([...b.subarray(0, at), ...r.bytes(1 + r.int(8)), ...b.subarray(at)]);
        }
        if (Buffer.compare(out, genuine) === 0) continue;
        await raw.publish(topic, out);
        sent++;
      }
      await until(() => total - seen >= sent, `${sent} rejections (${hint})`, 1_200_000);
      assert.equal(digest(), before, hint);
      const status = (await alice.rpc!.call('shadow.status', { id: sws })) as { patches: number };
      assert.equal(status.patches, 0, hint);
      const reasons = new Set(
        events.slice(seenEvents).flatMap((e) => {
          const p = e.payload as Obj;
          return p.event === 'rejected-many' ? Object.keys(p.counts as Obj) : [p.reason as string];
        }),
      );
      assert.ok(reasons.has('malformed'), hint);
    });
  });
}

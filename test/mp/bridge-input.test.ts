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
  seal,
  Topics,
} from '../../src/mp/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-bridge-in-');
let jitd: Jitd;
const alice = KeyPair.generate();
const watcher = KeyPair.generate();
before(async () => {
  jitd = await startJitd({ home: await tmp() });
  await registerAgents(jitd.home, [
    ['alice', alice],
    ['watcher', watcher],
  ]);
});
after(async () => {
  await jitd.stop();
});

describe('the kernel bridge under bad input', () => {
  it('drops forged, misaddressed, unknown-sender, garbage, replayed and ACL-refused messages; reports each; changes nothing', async () => {
    const a = await Agent.connect({ agent: 'alice', key: alice, plane: socketPath(jitd.home) });
    const w = await Agent.connect({ agent: 'watcher', key: watcher, plane: socketPath(jitd.home) });
    const sws = await a.openSws();
    const other = await a.openSws();
    // the watcher reads the SWS's answers as a member (ACL: no member, no subscription)
    await a.addMember(sws, 'watcher');
    await a.patch(sws, [{ op: 'put', path: 'kept', content: new Uint8Array([1]) }]);
    const digest = (await a.rpc!.call('shadow.status', { id: sws })) as { digest: string };
    const events: Message[] = [];
    await w.plane.subscribe(Topics.kernelEvents, (m) => void events.push(m));
    const answers: Message[] = [];
    await w.plane.subscribe(Topics.swsStatus(sws), (m) => void answers.push(m));

    const raw = new NativeTransport(
      { path: socketPath(jitd.home) },
      { login: await adminSigner(jitd.home) },
    );
    await raw.start();
    const topic = Topics.swsPatch(sws);
    const put = {
      patch: { author: 'alice', ops: [{ op: 'put', path: 'evil', content: new Uint8Array([6]) }] },
    };
    const { envelope, bytes } = a.plane.envelope(topic, put);
    // forged: signed, then the payload changed
    await raw.publish(topic, encodeEnvelope({ ...envelope, payload: { ...put, extra: 1 } }));
    // wrong topic: alice's genuine envelope for one SWS, re-published on another's topic
    await raw.publish(Topics.swsPatch(other), bytes);
    // unknown sender
    const stranger = KeyPair.generate();
    const m: Envelope = { ...a.plane.envelope(topic, put).envelope, sender: 'stranger' };
    await raw.publish(topic, encodeEnvelope(seal(m, keySigner('stranger', stranger))));
    // not an envelope at all, and an envelope-shaped map that is not one
    await raw.publish(topic, new Uint8Array([0xde, 0xad]));
    await raw.publish(topic, encode({ v: 1, sender: 'alice' }));
    // a well-signed command whose payload is garbage: refused by the kernel, answered
    const garbage = a.plane.envelope(topic, { patch: 'not a patch' });
    await raw.publish(topic, garbage.bytes);
    // the genuine message never sent before, then replayed
    await raw.publish(topic, bytes);
    await raw.publish(topic, bytes);
    // well signed, but by an agent that is not a member of the other SWS (a broker let it
    // through): the kernel's ACL refuses it, and answers, so the sender's outbox stops
    const otherAnswers: Message[] = [];
    await a.plane.subscribe(Topics.swsStatus(other), (m) => void otherAnswers.push(m));
    const intruder = w.plane.envelope(Topics.swsPatch(other), {
      patch: { author: 'watcher', ops: [{ op: 'put', path: 'x', content: new Uint8Array([7]) }] },
    });
    await raw.publish(Topics.swsPatch(other), intruder.bytes);

    const want = [
      'bad-signature',
      'wrong-topic',
      'unknown-sender',
      'malformed',
      'malformed',
      'duplicate',
      'denied',
    ];
    for (
      let i = 0;
      i < 400 && (events.length < want.length || answers.length < 3 || otherAnswers.length < 1);
      i++
    )
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      events.map((e) => (e.payload as { reason: string }).reason).sort(),
      [...want].sort(),
    );
    assert.ok(events.every((e) => e.sender === 'jit-kernel'));
    const byId = (id: Uint8Array): Record<string, unknown>[] =>
      answers
        .map((x) => x.payload as Record<string, unknown>)
        .filter((p) => p.re === Buffer.from(id).toString('hex'));
    const refused = byId(garbage.envelope.id);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.ok, false);
    assert.equal((refused[0]!.error as { name: string }).name, 'E_BAD_PAYLOAD');
    const denied = otherAnswers.map((x) => x.payload as Record<string, unknown>);
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.re, Buffer.from(intruder.envelope.id).toString('hex'));
    assert.equal((denied[0]!.error as { name: string }).name, 'E_ACCESS_DENIED');
    const genuine = byId(envelope.id);
    assert.equal(genuine.length, 2, 'the replay is answered again');
    assert.deepEqual(genuine[0], genuine[1]);
    // state: only the genuine patch landed, once; the other SWS is untouched
    const after = (await a.rpc!.call('shadow.status', { id: sws })) as {
      patches: number;
      digest: string;
    };
    assert.equal(after.patches, 2);
    assert.notEqual(after.digest, digest.digest);
    const { files } = (await a.rpc!.call('shadow.files', { id: other })) as { files: object };
    assert.deepEqual(files, {});
    await raw.close();
    await a.close();
    await w.close();
  });
});

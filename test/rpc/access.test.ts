import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { CborValue } from '../../src/codec/index.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair, keySigner } from '../../src/identity/index.js';
import { AclInputError } from '../../src/policy/index.js';
import { adminSigningBytes, type RemoteError, RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';
import { loginAs, registerAgents } from '../helpers/agents.js';
import { capture } from '../helpers/io.js';
import { put } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-access-');
const keys = { bob: KeyPair.generate(), carol: KeyPair.generate(), llm: KeyPair.generate() };
let jitd: Jitd;
let bob: RpcClient;
let carol: RpcClient;
let llm: RpcClient;
let admin: RpcClient;

before(async () => {
  jitd = await startJitd({ home: await tmp() });
  await registerAgents(jitd.home, [
    ['bob', keys.bob],
    ['carol', keys.carol],
    ['llm', keys.llm, 'restricted'],
  ]);
  bob = await loginAs(jitd.home, 'bob', keys.bob);
  carol = await loginAs(jitd.home, 'carol', keys.carol);
  llm = await loginAs(jitd.home, 'llm', keys.llm);
  admin = await RpcClient.connect(
    { path: socketPath(jitd.home) },
    { login: await adminSigner(jitd.home) },
  );
});
after(async () => {
  for (const c of [bob, carol, llm, admin]) await c.close();
  await jitd.stop();
});

type Obj = Record<string, CborValue>;

/** Expects `p` to be refused with `error` (the error class name) and E_ACCESS_DENIED. */
async function refused(p: Promise<unknown>, error: string, what: string): Promise<RemoteError> {
  try {
    await p;
  } catch (e) {
    const r = e as RemoteError;
    assert.equal(r.codeName, 'E_ACCESS_DENIED', `${what}: ${r.message}`);
    assert.equal(r.remoteName, error, `${what}: ${r.message}`);
    return r;
  }
  assert.fail(`${what} was allowed`);
}

/** The kernel's digests: DAG and refs, every SWS, the ACL. */
const digest = (): string => `${jitd.kernel.store.digest()} ${jitd.kernel.swsSummary().digest}`;

const patchBy = (author: string, path = 'f.txt', text = 'x'): Obj => ({
  author,
  ops: [put(path, text) as Obj],
});

describe('sessions', () => {
  it('serves nothing but handshake and login before a login', async () => {
    const c = await RpcClient.connect({ path: socketPath(jitd.home) });
    try {
      const before = digest();
      for (const [op, payload] of [
        ['jit.info', {}],
        ['shadow.create', { owner: 'x' }],
        ['shadow.list', {}],
        ['ref.set', { name: 'main', target: '0'.repeat(64) }],
        ['agent.list', {}],
        ['acl.set', { rules: [] }],
        ['mp.subscribe', { pattern: '>' }],
        ['mp.publish', { msgs: [] }],
      ] as const)
        await refused(c.call(op, payload), 'NotLoggedInError', op);
      assert.equal(((await c.call('session.whoami', {})) as Obj).agent, null);
      assert.equal(digest(), before);
    } finally {
      await c.close();
    }
  });

  it('refuses a login with the wrong key, for an unknown agent, or replayed from another connection', async () => {
    const a = await RpcClient.connect({ path: socketPath(jitd.home) });
    const b = await RpcClient.connect({ path: socketPath(jitd.home) });
    try {
      await refused(a.login(keySigner('bob', keys.carol)), 'AuthError', 'wrong key');
      await refused(a.login(keySigner('mallory', KeyPair.generate())), 'AuthError', 'unknown');
      // bob logs in on a; the same signature sent on b does not verify there
      const ch = ((await a.call('handshake', {})) as { challenge: string }).challenge;
      const sig = keys.bob.sign(adminSigningBytes('session.login', ch, { agent: 'bob' }));
      assert.equal(((await a.call('session.login', { agent: 'bob', sig })) as Obj).role, 'agent');
      await refused(b.call('session.login', { agent: 'bob', sig }), 'AuthError', 'replayed login');
      assert.equal(((await b.call('session.whoami', {})) as Obj).agent, null);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('a removed (stolen) key', () => {
  it('loses its rights at once, on a session already open', async () => {
    const k = KeyPair.generate();
    await registerAgents(jitd.home, [['dave', k]]);
    const dave = await loginAs(jitd.home, 'dave', k);
    try {
      await dave.call('shadow.list', {});
      assert.equal(await main(['agent', 'remove', 'dave', '--home', jitd.home], capture()), 0);
      await refused(dave.call('shadow.list', {}), 'NotLoggedInError', 'after removal');
      await refused(dave.login(keySigner('dave', k)), 'AuthError', 'login again');
    } finally {
      await dave.close();
    }
  });
});

describe('membership and acting as oneself', () => {
  it('keeps an SWS to its members; a guessed id is refused just like a real one', async () => {
    const { id } = (await bob.call('shadow.create', { ref: 'main' })) as { id: string };
    assert.equal(((await bob.call('shadow.status', { id })) as Obj).owner, 'bob');
    await bob.call('shadow.apply_patch', { id, patch: patchBy('bob') });
    const before = digest();
    const real = await refused(
      carol.call('shadow.read', { id, path: 'f.txt' }),
      'AclDeniedError',
      'read',
    );
    const guess = randomBytes(16).toString('hex');
    const fake = await refused(
      carol.call('shadow.read', { id: guess, path: 'f.txt' }),
      'AclDeniedError',
      'guess',
    );
    assert.equal(real.message.replaceAll(id, 'X'), fake.message.replaceAll(guess, 'X'));
    for (const [op, p] of [
      ['shadow.apply_patch', { id, patch: patchBy('carol') }],
      ['shadow.status', { id }],
      ['shadow.files', { id }],
      ['shadow.diff', { id }],
      ['shadow.annotate', { id, author: 'carol', path: 'f.txt', severity: 'info', message: 'm' }],
      ['shadow.commit', { id }],
      ['collapse.commit', { id }],
      ['collapse.validate', { id }],
      ['shadow.discard', { id }],
      ['shadow.add_member', { id, agent: 'carol' }],
    ] as const)
      await refused(carol.call(op, p), 'AclDeniedError', op);
    const listed = (await carol.call('shadow.list', {})) as { sws: Obj[] };
    assert.ok(
      listed.sws.every((s) => s.id !== id),
      'shadow.list hides it',
    );
    assert.equal(digest(), before);
  });

  it('lets a member read and patch, not commit; removing the member takes it back', async () => {
    const { id } = (await bob.call('shadow.create', {})) as { id: string };
    assert.deepEqual(
      ((await bob.call('shadow.add_member', { id, agent: 'carol' })) as Obj).members,
      ['carol'],
    );
    await carol.call('shadow.apply_patch', { id, patch: patchBy('carol', 'c.txt') });
    assert.equal(((await carol.call('shadow.read', { id, path: 'c.txt' })) as Obj).kind, 'file');
    assert.ok(
      ((await carol.call('shadow.list', {})) as { sws: Obj[] }).sws.some((s) => s.id === id),
    );
    await refused(carol.call('shadow.commit', { id }), 'AccessDeniedError', 'member commit');
    await bob.call('shadow.remove_member', { id, agent: 'carol' });
    await refused(carol.call('shadow.status', { id }), 'AclDeniedError', 'after removal');
  });

  it("refuses to act in another agent's name", async () => {
    const { id } = (await bob.call('shadow.create', {})) as { id: string };
    const before = digest();
    await refused(bob.call('shadow.create', { owner: 'carol' }), 'AclDeniedError', 'owner');
    await refused(
      bob.call('shadow.apply_patch', { id, patch: patchBy('carol') }),
      'AclDeniedError',
      'author',
    );
    await refused(
      bob.call('shadow.annotate', {
        id,
        author: 'carol',
        path: 'a',
        severity: 'info',
        message: 'm',
      }),
      'AclDeniedError',
      'annotate author',
    );
    await refused(
      bob.call('shadow.commit', { id, agent: 'carol' }),
      'AclDeniedError',
      'commit agent',
    );
    assert.equal(digest(), before);
    // an administrator may act for anyone
    const r = (await admin.call('shadow.create', { owner: 'carol' })) as { id: string };
    assert.equal(((await carol.call('shadow.status', { id: r.id })) as Obj).owner, 'carol');
  });
});

describe('the audit trail over RPC', () => {
  it('takes entries from any agent, each under its own name; reads them back; refuses a forged author', async () => {
    const first = (await bob.call('audit.append', { event: { type: 'note', text: 'hi' } })) as Obj;
    const second = (await carol.call('audit.append', {
      event: { type: 'note' },
      by: 'carol',
    })) as Obj;
    assert.equal(second.seq, (first.seq as number) + 1);
    const before = digest();
    await refused(
      bob.call('audit.append', { event: { type: 'note' }, by: 'carol' }),
      'AclDeniedError',
      'audit author',
    );
    await assert.rejects(
      bob.call('ref.set', { name: 'jit/audit', target: first.node as string, force: true }),
      (e: unknown) => (e as RemoteError).remoteName === 'RefConflictError',
    );
    assert.equal(digest(), before);
    const log = (await carol.call('audit.log', { from: first.seq as number })) as Obj;
    const entries = log.entries as Obj[];
    assert.deepEqual(
      entries.map((e) => [e.by, (e.event as Obj).type]),
      [
        ['bob', 'note'],
        ['carol', 'note'],
      ],
    );
    assert.equal(((await bob.call('audit.head', {})) as Obj).head !== null, true);
    // an administrator may append in another's name (a bridge or a recovery tool)
    const byAdmin = (await admin.call('audit.append', { event: { type: 'x' }, by: 'jitd' })) as Obj;
    assert.equal(byAdmin.seq, (second.seq as number) + 1);
  });
});

describe('the restricted sandbox', () => {
  it('patches and reads the SWSs it is a member of; every other action is refused and changes nothing', async () => {
    const { id } = (await bob.call('shadow.create', {})) as { id: string };
    await bob.call('shadow.add_member', { id, agent: 'llm' });
    await llm.call('shadow.apply_patch', { id, patch: patchBy('llm', 'llm.txt') });
    await llm.call('shadow.annotate', {
      id,
      author: 'llm',
      path: 'llm.txt',
      severity: 'info',
      message: 'ok',
    });
    assert.equal(((await llm.call('shadow.read', { id, path: 'llm.txt' })) as Obj).kind, 'file');
    const head = ((await bob.call('ref.get', { name: 'main' })) as Obj).target as string;
    const before = digest();
    for (const [op, p] of [
      ['shadow.create', {}],
      ['shadow.commit', { id }],
      ['collapse.commit', { id }],
      ['shadow.discard', { id }],
      ['shadow.add_member', { id, agent: 'carol' }],
      ['shadow.list', {}],
      ['ref.set', { name: 'main', target: head }],
      ['ref.create_branch', { name: 'x', target: head }],
      ['ref.create_tag', { name: 't', target: head }],
      ['ref.delete', { name: 'main' }],
      ['ref.get', { name: 'main' }],
      ['dag.get_node', { id: head }],
      ['dag.lineage', { id: head }],
      ['agent.add', { agent: 'x', public_key: '00'.repeat(32) }],
      ['acl.set', { rules: [] }],
      ['acl.check', { agent: 'bob', action: 'publish', resource: 'x' }],
      ['jit.fsck', {}],
      ['audit.append', { event: { type: 'note' } }],
      ['audit.log', {}],
      ['mp.subscribe', { pattern: 'jit.kernel.events' }],
      ['mp.subscribe', { pattern: 'jit.sws.>' }],
      ['mp.publish', { msgs: [[`jit.sws.${id}.commit`, new Uint8Array(1)]] }],
      ['mp.publish', { msgs: [['team.chat', new Uint8Array(1)]] }],
    ] as const)
      await refused(llm.call(op, p), 'AclDeniedError', op);
    assert.equal(digest(), before);
    // what its own plane needs to refuse what the ACL forbids: the rules and their changes
    assert.ok(Array.isArray(((await llm.call('acl.list', {})) as Obj).rules));
    const follow = (await admin.call('acl.check', {
      agent: 'llm',
      action: 'subscribe',
      resource: 'jit.kernel.policy',
    })) as Obj;
    assert.equal(follow.allowed, true, String(follow.reason));
    assert.equal(digest(), before, 'reading the rules changes nothing');
    // not even an admin's rule lets it out
    await admin.call('acl.set', {
      rules: [{ effect: 'allow', who: 'llm', action: '>', resource: '>' }],
    });
    await refused(llm.call('shadow.commit', { id }), 'AclDeniedError', 'commit with a rule');
    await admin.call('acl.set', { rules: [] });
  });
});

describe('rate limits and payload caps', () => {
  /** A jitd whose agents may send `rate` messages a second (bursts as large), and two of them. */
  const eveAndFay = async (rate: number) => {
    const home = await tmp();
    const j = await startJitd({
      home,
      limits: { roles: { agent: { messages: { rate, burst: rate } } } },
    });
    const k = { eve: KeyPair.generate(), fay: KeyPair.generate() };
    await registerAgents(home, [
      ['eve', k.eve],
      ['fay', k.fay],
    ]);
    return { j, eve: await loginAs(home, 'eve', k.eve), fay: await loginAs(home, 'fay', k.fay) };
  };

  it('refuses a flooding agent with E_RATE_LIMITED and counts it, while others go on', async () => {
    const { j, eve, fay } = await eveAndFay(50);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () =>
          eve.call('mp.publish', { msgs: [['team.chat', new Uint8Array(8)]] }),
        ),
      );
      const limited = results.filter(
        (r) => r.status === 'rejected' && (r.reason as RemoteError).codeName === 'E_RATE_LIMITED',
      );
      assert.ok(limited.length >= 140, `${limited.length} of 200 refused`);
      assert.equal(
        results.length - limited.length,
        results.filter((r) => r.status === 'fulfilled').length,
      );
      await fay.call('shadow.list', {}); // fay has her own bucket
      const info = (await fay.call('jit.info', {})) as {
        security: { rate_limited: { agent: number } };
      };
      assert.ok(info.security.rate_limited.agent >= limited.length);
    } finally {
      await eve.close();
      await fay.close();
      await j.stop();
    }
  });

  it('stops reading a refused connection until it may send again; other connections go on', async () => {
    const { j, eve, fay } = await eveAndFay(2);
    try {
      const publish = () => eve.call('mp.publish', { msgs: [['team.chat', new Uint8Array(8)]] });
      await publish();
      await publish();
      let wait = 0;
      await assert.rejects(publish(), (e: unknown) => {
        wait = ((e as RemoteError).details as { retry_after_ms: number }).retry_after_ms;
        return (e as RemoteError).codeName === 'E_RATE_LIMITED';
      });
      assert.ok(wait >= 100, `told to wait ${wait} ms`);
      const t0 = performance.now();
      const held = eve.call('session.whoami', {}); // not charged, but not read until then
      const other = fay.call('session.whoami', {}).then(() => performance.now() - t0);
      await held;
      const eveMs = performance.now() - t0;
      const fayMs = await other;
      assert.ok(eveMs >= wait * 0.8, `eve's next call answered after ${eveMs} ms (wait ${wait})`);
      assert.ok(fayMs < wait / 2, `fay answered after ${fayMs} ms, not held with eve`);
    } finally {
      await eve.close();
      await fay.close();
      await j.stop();
    }
  });

  it('refuses a restricted agent a payload over its cap', async () => {
    const { id } = (await bob.call('shadow.create', {})) as { id: string };
    await bob.call('shadow.add_member', { id, agent: 'llm' });
    const before = digest();
    const big = new Uint8Array(300 * 1024);
    await assert.rejects(
      llm.call('mp.publish', { msgs: [[`jit.sws.${id}.patch`, big]] }),
      (e: unknown) =>
        (e as RemoteError).codeName === 'E_RATE_LIMITED' &&
        /over the 262144/.test((e as Error).message),
    );
    await assert.rejects(
      llm.call('shadow.apply_patch', {
        id,
        patch: { author: 'llm', ops: [put('big', 'x'.repeat(300 * 1024)) as Obj] },
      }),
      (e: unknown) => (e as RemoteError).codeName === 'E_RATE_LIMITED',
    );
    assert.equal(digest(), before);
  });
});

describe('ACL rules through RPC, the CLI, the log and acl.json', () => {
  it('lets only admins change rules; deny rules bite at once; rules survive a restart and replay', async () => {
    const before = digest();
    await refused(bob.call('acl.set', { rules: [] }), 'AclDeniedError', 'bob acl.set');
    assert.equal(digest(), before);
    const out = capture();
    const home = jitd.home;
    assert.equal(await main(['acl', 'deny', 'bob', 'ref.*', 'ref.main', '--home', home], out), 0);
    assert.match(out.stdout, /added deny\(bob, ref\.\*, ref\.main\)/);
    await refused(bob.call('ref.get', { name: 'main' }), 'AclDeniedError', 'after deny');
    const check = capture();
    assert.equal(
      await main(['acl', 'check', 'bob', 'ref.set', 'ref.main', '--home', home], check),
      1,
    );
    assert.match(check.stdout, /denied: denied by deny\(bob, ref\.\*, ref\.main\)/);
    const file = JSON.parse(await readFile(join(home, 'acl.json'), 'utf8')) as { rules: Obj[] };
    assert.deepEqual(file.rules, [
      { effect: 'deny', who: 'bob', action: 'ref.*', resource: 'ref.main' },
    ]);
    // a stale expect is refused (two admins at once)
    await assert.rejects(
      admin.call('acl.set', { rules: [], expect: 'f'.repeat(64) }),
      /changed since/,
    );
    // fsck: replaying the log (with its ACL_SET) gives the same digests
    const fsck = capture();
    assert.equal(await main(['fsck', '--home', home, '--json'], fsck), 0, fsck.stdout);
    assert.equal(
      await main(['acl', 'remove', 'deny', 'bob', 'ref.*', 'ref.main', '--home', home], capture()),
      0,
    );
    assert.equal(((await bob.call('ref.get', { name: 'main' })) as Obj).name, 'main');
  });

  it('takes acl.json edited while jitd was stopped, and refuses to boot on a broken one', async () => {
    const home = await tmp();
    let j = await startJitd({ home });
    await j.stop();
    const rule = { effect: 'deny', who: '*', action: 'ref.delete', resource: 'ref.main' };
    await writeFile(join(home, 'acl.json'), JSON.stringify({ version: 1, rules: [rule] }));
    j = await startJitd({ home });
    assert.deepEqual(j.kernel.policy.list, [rule]);
    const replayed = await (await import('../../src/kernel/index.js')).Kernel.replayDigests(home);
    assert.equal(replayed.sws, j.kernel.swsSummary().digest, 'the ACL_SET is in the log');
    await j.stop();
    await writeFile(join(home, 'acl.json'), '{"version":1,"rules":[{"effect":"perhaps"}]}');
    await assert.rejects(
      startJitd({ home }),
      (e: unknown) => e instanceof AclInputError && /acl\.json/.test((e as Error).message),
    );
  });
});

describe('a stolen key', () => {
  it('is worthless once its agent is removed: the open session is refused at its next call, and so is a new login', async () => {
    const stolen = KeyPair.generate();
    await registerAgents(jitd.home, [['dave', stolen]]);
    const thief = await loginAs(jitd.home, 'dave', stolen);
    try {
      await thief.call('jit.info', {});
      await admin.signedCall('agent.remove', { agent: 'dave' }, await adminSigner(jitd.home));
      const before = digest();
      await refused(thief.call('shadow.create', {}), 'NotLoggedInError', 'a call after removal');
      assert.equal(digest(), before, 'the refused call changed nothing');
      await assert.rejects(loginAs(jitd.home, 'dave', stolen), 'a new login with the stolen key');
    } finally {
      await thief.close();
    }
  });
});

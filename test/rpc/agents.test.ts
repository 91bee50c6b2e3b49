import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import {
  ADMIN_AGENT,
  adminSigner,
  identityPaths,
  KERNEL_AGENT,
  KeyPair,
  keySigner,
} from '../../src/identity/index.js';
import { adminAuth, RemoteError, RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';
import { capture } from '../helpers/io.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-agents-');
let jitd: Jitd;
let admin: ReturnType<typeof keySigner>;
before(async () => {
  jitd = await startJitd({ home: await tmp() });
  admin = keySigner(ADMIN_AGENT, await KeyPair.load(identityPaths(jitd.home).adminKey));
});
after(async () => {
  await jitd.stop();
});

const connect = async (): Promise<RpcClient> =>
  RpcClient.connect({ path: socketPath(jitd.home) }, { login: await adminSigner(jitd.home) });
const refused = (code: string) => (e: unknown) => e instanceof RemoteError && e.codeName === code;

describe('identity in jitd', () => {
  it('makes the kernel and admin keys (0600) and binds them in the trust store', async () => {
    const p = identityPaths(jitd.home);
    for (const f of [p.kernelKey, p.adminKey]) assert.equal((await stat(f)).mode & 0o777, 0o600);
    const c = await connect();
    const { agents } = (await c.call('agent.list', {})) as {
      agents: { agent: string; role: string }[];
    };
    assert.deepEqual(
      agents.map((a) => [a.agent, a.role]),
      [
        [ADMIN_AGENT, 'admin'],
        [KERNEL_AGENT, 'kernel'],
      ],
    );
    await c.close();
  });

  it('changes the trust store only with a valid admin signature for this connection', async () => {
    const c = await connect();
    const bob = KeyPair.generate();
    const args = { agent: 'bob', public_key: Buffer.from(bob.publicKey).toString('hex') };
    await assert.rejects(c.call('agent.add', args), refused('E_ACCESS_DENIED'));
    // a non-admin's signature
    const mallory = KeyPair.generate();
    await assert.rejects(
      c.signedCall('agent.add', args, keySigner(ADMIN_AGENT, mallory)),
      refused('E_ACCESS_DENIED'),
    );
    // a valid admin signature made for another connection's challenge
    const other = await connect();
    const { challenge } = (await other.call('handshake', {})) as { challenge: string };
    await assert.rejects(
      c.call('agent.add', { ...args, auth: adminAuth(admin, 'agent.add', challenge, args) }),
      refused('E_ACCESS_DENIED'),
    );
    // signed for another op
    const { challenge: mine } = (await c.call('handshake', {})) as { challenge: string };
    await assert.rejects(
      c.call('agent.add', { ...args, auth: adminAuth(admin, 'agent.remove', mine, args) }),
      refused('E_ACCESS_DENIED'),
    );
    assert.equal(jitd.trust.get('bob'), undefined, 'no refused call changed the store');
    assert.deepEqual(await c.signedCall('agent.add', args, admin), {
      agent: {
        agent: 'bob',
        public_key: args.public_key,
        fingerprint: bob.fingerprint,
        role: 'agent',
      },
      added: true,
    });
    assert.equal(
      ((await c.signedCall('agent.add', args, admin)) as { added: boolean }).added,
      false,
    );
    await assert.rejects(
      c.signedCall('agent.add', { ...args, public_key: '00'.repeat(32) }, admin),
      refused('E_CONFLICT'),
    );
    await assert.rejects(
      c.signedCall('agent.add', { ...args, agent: 'bad id!' }, admin),
      refused('E_BAD_PAYLOAD'),
    );
    await assert.rejects(
      c.signedCall('agent.remove', { agent: KERNEL_AGENT }, admin),
      refused('E_BAD_PAYLOAD'),
    );
    assert.deepEqual(await c.signedCall('agent.remove', { agent: 'bob' }, admin), {
      agent: 'bob',
      removed: true,
    });
    await c.close();
    await other.close();
  });

  it('jit keygen and jit agent add|list|remove work end to end', async () => {
    const dir = await tmp();
    const key = join(dir, 'carol.key');
    const io = capture();
    assert.equal(await main(['keygen', '--out', key, '--json'], io), 0);
    const made = JSON.parse(io.stdout) as { public_key: string; fingerprint: string };
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.equal(
      await main(['keygen', '--out', key], capture()),
      4,
      'an existing key is not replaced',
    );
    const add = capture();
    assert.equal(
      await main(['agent', 'add', 'carol', `${key}.pub`, '--home', jitd.home], add),
      0,
      add.stderr,
    );
    assert.match(add.stdout, /added carol/);
    const list = capture();
    assert.equal(await main(['agent', 'list', '--home', jitd.home, '--json'], list), 0);
    const agents = (JSON.parse(list.stdout) as { agents: { agent: string; fingerprint: string }[] })
      .agents;
    assert.equal(agents.find((a) => a.agent === 'carol')?.fingerprint, made.fingerprint);
    const rm = capture();
    assert.equal(await main(['agent', 'remove', 'carol', '--home', jitd.home], rm), 0);
    assert.match(rm.stdout, /removed carol/);
    const bad = capture();
    assert.equal(await main(['agent', 'add', 'dave', 'nothex', '--home', jitd.home], bad), 4);
    assert.match(bad.stderr, /64 lowercase hex/);
  });
});

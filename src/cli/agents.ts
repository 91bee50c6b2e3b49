import { readFile, writeFile } from 'node:fs/promises';
import { fromHex } from '../codec/index.js';
import {
  ADMIN_AGENT,
  IdentityInputError,
  identityPaths,
  KeyPair,
  keySigner,
} from '../identity/index.js';
import { call, type Obj, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const KEYGEN_HELP = `jit keygen — a new Ed25519 key pair for an agent

Usage: jit keygen [--out FILE] [--force] [--json]

Writes the private key to FILE (default ./agent.key) as PKCS#8 PEM with mode 0600, and the public
key as 64 hex characters to FILE.pub. Prints the public key and its fingerprint (SHA-256 of the
raw key). Refuses to replace an existing FILE unless --force. Works without jitd.
`;

export const AGENT_HELP = `jit agent — the kernel's trust store: which key each agent id signs with

Usage:
  jit agent list                               every agent, its role and key fingerprint
  jit agent add ID PUBKEY [--role ROLE]        bind ID to PUBKEY (64 hex characters, or a .pub file)
  jit agent remove ID                          unbind ID

ROLE: agent (default), restricted (a sandboxed agent: patches, findings and reads of the SWSs it
is a member of, nothing else) or admin.
add and remove are signed with the admin key (default: <home>/keys/admin.key, made by jit init;
--admin-key FILE for another). Adding the same binding twice changes nothing; binding a taken id to
another key is refused until it is removed.
`;

export async function keygen(
  io: Io,
  json: boolean,
  out: string | undefined,
  force: boolean,
): Promise<number> {
  const path = out ?? 'agent.key';
  const k = KeyPair.generate();
  await k.save(path, { overwrite: force });
  const pub = Buffer.from(k.publicKey).toString('hex');
  await writeFile(`${path}.pub`, `${pub}\n`);
  const r = { ok: true, key: path, public_key: pub, fingerprint: k.fingerprint };
  io.out(
    json
      ? `${toJson(r)}\n`
      : `wrote ${path} (private, 0600) and ${path}.pub\npublic key  ${pub}\nfingerprint ${k.fingerprint}\n`,
  );
  return Exit.OK;
}

/** A public key given as hex, or the path of a .pub file holding it. */
async function publicKeyArg(arg: string): Promise<string> {
  const text = /^[0-9a-f]{64}$/.test(arg)
    ? arg
    : (await readFile(arg, 'utf8').catch(() => '')).trim();
  const key = fromHex(text);
  if (key === undefined || key.length !== 32)
    throw new IdentityInputError(
      `${arg} is neither 64 lowercase hex characters nor a readable .pub file holding them`,
    );
  return text;
}

export async function agents(
  io: Io,
  home: string,
  json: boolean,
  sub: string | undefined,
  args: readonly string[],
  opts: { role?: string; adminKey?: string },
  usage: (t: string) => number,
): Promise<number> {
  const arity: Record<string, number> = { list: 0, add: 2, remove: 1 };
  if (sub === undefined || arity[sub] !== args.length) return usage(AGENT_HELP);
  const out = (v: Obj, human: string): number => {
    io.out(json ? `${toJson(v)}\n` : human);
    return Exit.OK;
  };
  const admin = async (): Promise<ReturnType<typeof keySigner>> =>
    keySigner(ADMIN_AGENT, await KeyPair.load(opts.adminKey ?? identityPaths(home).adminKey));
  return withClient(home, async (c) => {
    switch (sub) {
      case 'list': {
        const r = await call(c, 'agent.list', {});
        const rows = (r.agents as Obj[]).map(
          (a) =>
            `${String(a.agent).padEnd(20)} ${String(a.role).padEnd(7)} ${String(a.fingerprint).slice(0, 16)}…`,
        );
        return out(r, `${rows.join('\n')}\n`);
      }
      case 'add': {
        const public_key = await publicKeyArg(args[1]!);
        const r = (await c.signedCall(
          'agent.add',
          { agent: args[0]!, public_key, role: opts.role ?? 'agent' },
          await admin(),
        )) as Obj;
        return out(
          r,
          r.added ? `added ${args[0]}\n` : `${args[0]} was already bound to that key\n`,
        );
      }
      default: {
        const r = (await c.signedCall('agent.remove', { agent: args[0]! }, await admin())) as Obj;
        return out(
          r,
          r.removed ? `removed ${args[0]}\n` : `${args[0]} was not in the trust store\n`,
        );
      }
    }
  });
}

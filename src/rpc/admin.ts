import { type CborValue, encode, fromHex, toHex } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import {
  type AgentRole,
  checkAgentId,
  type Signer,
  type TrustedAgent,
  type TrustStore,
} from '../identity/index.js';
import { AuthError, BadRequestError } from './errors.js';
import type { Handler, HandlerContext } from './server.js';

type M = Record<string, CborValue>;

/**
 * What an admin signs to authorise `op` with `args` on one connection: the canonical CBOR of
 * `{op, challenge, args}`. The challenge is the connection's (from `handshake`), so a captured
 * request is useless on any other connection.
 */
export function adminSigningBytes(op: string, challenge: string, args: CborValue): Uint8Array {
  return encode({ op, challenge, args });
}

/** The `auth` field a signed request carries. */
export function adminAuth(signer: Signer, op: string, challenge: string, args: CborValue): M {
  return { agent: signer.agent, sig: signer.sign(adminSigningBytes(op, challenge, args)) };
}

function agentView(a: TrustedAgent): CborValue {
  return {
    agent: a.agent,
    public_key: toHex(a.publicKey),
    fingerprint: a.fingerprint,
    role: a.role,
  };
}

/**
 * The trust-store ops: `agent.list` for anyone; `agent.add` and `agent.remove` only with the
 * signature of an agent whose role is admin (payload `{...args, auth: {agent, sig}}`).
 */
export function agentOps(trust: TrustStore): [string, Handler][] {
  const authorise = (op: string, p: CborValue, ctx: HandlerContext): M => {
    if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Uint8Array)
      throw new BadRequestError('the payload must be a map');
    const { auth, ...args } = p as M;
    const a = auth as M | undefined;
    if (a === undefined || typeof a !== 'object' || typeof a.agent !== 'string')
      throw new AuthError(`${op} needs an admin's signature (payload.auth = {agent, sig})`);
    const who = trust.get(a.agent);
    if (who === undefined || who.role !== 'admin')
      throw new AuthError(`${a.agent} is not an admin`, { agent: a.agent });
    const sig = a.sig instanceof Uint8Array ? a.sig : new Uint8Array(0);
    if (trust.verify(a.agent, adminSigningBytes(op, ctx.challenge, args), sig) !== 'ok')
      throw new AuthError(`the admin signature on ${op} does not verify for this connection`, {
        agent: a.agent,
      });
    return args;
  };
  return [
    ['agent.list', () => ({ agents: trust.list().map(agentView) })],
    [
      'agent.add',
      async (p, ctx) => {
        const m = authorise('agent.add', p, ctx);
        const agent = checkAgentId(m.agent);
        const key = typeof m.public_key === 'string' ? fromHex(m.public_key) : undefined;
        if (key === undefined || key.length !== 32)
          throw new BadRequestError(
            `payload.public_key must be 64 hex characters (an Ed25519 public key), not ${describeValue(m.public_key)}`,
          );
        const role = (m.role ?? 'agent') as AgentRole;
        if (role !== 'agent' && role !== 'admin' && role !== 'restricted')
          throw new BadRequestError(
            `payload.role must be "agent", "restricted" or "admin", not ${describeValue(m.role)}`,
          );
        const r = await trust.add({ agent, publicKey: key, role }, { signal: ctx.signal });
        return { agent: agentView(r.agent), added: r.added };
      },
    ],
    [
      'agent.remove',
      async (p, ctx) => {
        const m = authorise('agent.remove', p, ctx);
        const agent = checkAgentId(m.agent);
        const who = trust.get(agent);
        if (who?.role === 'kernel')
          throw new BadRequestError(`${agent} is the kernel's own key and cannot be removed`);
        return { agent, removed: await trust.remove(agent, { signal: ctx.signal }) };
      },
    ],
  ];
}

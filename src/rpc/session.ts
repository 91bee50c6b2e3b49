import type { CborValue } from '../codec/index.js';
import type { TrustStore } from '../identity/index.js';
import { adminSigningBytes } from './admin.js';
import { AuthError, BadRequestError } from './errors.js';
import type { Handler } from './server.js';

/**
 * `session.login {agent, sig}`: binds the connection to `agent`, whose key must sign
 * `{op: "session.login", challenge, args: {agent}}` with this connection's challenge (from
 * `handshake`), so a captured login is useless on another connection. Every later request on the
 * connection acts as that agent, with the role the trust store gives it. `session.whoami` says
 * who the connection is.
 */
export function sessionOps(trust: TrustStore): [string, Handler][] {
  return [
    [
      'session.login',
      (p, ctx) => {
        const m = p as Record<string, CborValue>;
        if (m === null || typeof m !== 'object' || typeof m.agent !== 'string')
          throw new BadRequestError('session.login needs payload {agent, sig}');
        const agent = m.agent;
        const sig = m.sig instanceof Uint8Array ? m.sig : new Uint8Array(0);
        const verdict = trust.verify(
          agent,
          adminSigningBytes('session.login', ctx.challenge, { agent }),
          sig,
        );
        if (verdict === 'unknown-sender')
          throw new AuthError(
            `${agent} is not in the trust store (add it with \`jit agent add\`)`,
            {
              agent,
            },
          );
        if (verdict !== 'ok')
          throw new AuthError(
            `the login signature of ${agent} does not verify for this connection`,
            {
              agent,
            },
          );
        ctx.session.agent = agent;
        return { agent, role: trust.get(agent)!.role };
      },
    ],
    [
      'session.whoami',
      (_p, ctx) => {
        const a = ctx.session.agent;
        return a === undefined
          ? { agent: null, role: null }
          : { agent: a, role: trust.get(a)?.role ?? null };
      },
    ],
  ];
}

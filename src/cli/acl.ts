import { builtinText } from '../policy/index.js';
import type { RemoteError, RpcClient } from '../rpc/index.js';
import { call, type Obj, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const ACL_HELP = `jit acl — who may do what (rules allow|deny(WHO, ACTION, RESOURCE); deny wins)

Usage:
  jit acl list [--builtin]                   the rules (--builtin: also what each role may do)
  jit acl allow WHO ACTION RESOURCE           add an allow rule
  jit acl deny WHO ACTION RESOURCE            add a deny rule
  jit acl remove allow|deny WHO ACTION RESOURCE   remove a rule
  jit acl check AGENT ACTION RESOURCE [--role ROLE]   would AGENT be allowed, and why

WHO is an agent id, role:<kernel|admin|agent|restricted> or * (everyone).
ACTION is publish, subscribe or an RPC op (shadow.commit, ref.set, agent.add…), or a pattern of
them (shadow.*, ref.>). RESOURCE is a topic (jit.sws.<id>.patch), sws.<id>, ref.<name>, dag,
trust, acl or kernel, or a pattern (* one token, > the rest).
Changing rules needs an admin (the CLI logs in with <home>/keys/admin.key); every change is
logged in the WAL and written to <home>/acl.json, which jitd also reads at boot.
`;

type RuleArgs = [effect: string, who: string, action: string, resource: string];

/** Reads the rules, changes them, writes them back expecting what was read (retries a race). */
async function change(c: RpcClient, edit: (rules: Obj[]) => Obj[]): Promise<Obj> {
  for (let attempt = 0; ; attempt++) {
    const now = await call(c, 'acl.list', {});
    try {
      return await call(c, 'acl.set', { rules: edit(now.rules as Obj[]), expect: now.digest! });
    } catch (e) {
      if ((e as RemoteError).codeName !== 'E_CONFLICT' || attempt >= 3) throw e;
    }
  }
}

const same = (r: Obj, [effect, who, action, resource]: RuleArgs): boolean =>
  r.effect === effect && r.who === who && r.action === action && r.resource === resource;

export async function acl(
  io: Io,
  home: string,
  json: boolean,
  sub: string | undefined,
  args: readonly string[],
  opts: { builtin?: boolean; role?: string },
  usage: (t: string) => number,
): Promise<number> {
  const arity: Record<string, number> = { list: 0, allow: 3, deny: 3, remove: 4, check: 3 };
  if (sub === undefined || arity[sub] !== args.length) return usage(ACL_HELP);
  const out = (v: Obj, human: string): number => {
    io.out(json ? `${toJson(v)}\n` : human);
    return Exit.OK;
  };
  const text = (r: Obj): string => `${r.effect}(${r.who}, ${r.action}, ${r.resource})`;
  return withClient(home, async (c) => {
    switch (sub) {
      case 'list': {
        const r = await call(c, 'acl.list', {});
        const rules = r.rules as Obj[];
        let human = rules.length === 0 ? 'no rules\n' : `${rules.map(text).join('\n')}\n`;
        if (opts.builtin === true) {
          const b = builtinText();
          human += `\nbuilt in, before any rule (first that applies):\n${b
            .map((x) => `  ${x.role}:\n${x.entries.map((e) => `    ${e}`).join('\n')}`)
            .join('\n')}\n`;
          return out({ ...r, builtin: b as unknown as Obj[] }, human);
        }
        return out(r, human);
      }
      case 'allow':
      case 'deny': {
        const rule: Obj = { effect: sub, who: args[0]!, action: args[1]!, resource: args[2]! };
        const r = await change(c, (rules) => [...rules, rule]);
        return out(r, `${r.updated ? 'added' : 'already there:'} ${text(rule)}\n`);
      }
      case 'remove': {
        const a = args as unknown as RuleArgs;
        if (a[0] !== 'allow' && a[0] !== 'deny') return usage(ACL_HELP);
        const r = await change(c, (rules) => rules.filter((x) => !same(x, a)));
        return out(
          r,
          r.updated ? `removed ${a[0]}(${a[1]}, ${a[2]}, ${a[3]})\n` : 'no such rule\n',
        );
      }
      default: {
        const r = await call(c, 'acl.check', {
          agent: args[0]!,
          action: args[1]!,
          resource: args[2]!,
          ...(opts.role !== undefined ? { role: opts.role } : {}),
        });
        io.out(
          json ? `${toJson(r)}\n` : `${r.allowed ? 'allowed' : 'denied'}: ${String(r.reason)}\n`,
        );
        return r.allowed ? Exit.OK : Exit.FOUND_PROBLEM;
      }
    }
  });
}

import { call, type Obj, resolveTarget, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const REF_HELP = `jit ref — branches and tags

Usage:
  jit ref list                          every ref and where it points
  jit ref branch NAME TARGET            a new branch at TARGET (a node id or a ref name)
  jit ref tag NAME TARGET               a tag (tags never move)
  jit ref set NAME TARGET [--force]     move a branch; only forward unless --force
  jit ref delete NAME                   delete a branch (tags cannot be deleted); the active
                                        working sets based on it are invalidated
`;

export async function refs(
  io: Io,
  home: string,
  json: boolean,
  sub: string | undefined,
  args: readonly string[],
  force: boolean,
  usage: (t: string) => number,
): Promise<number> {
  const out = (v: Obj, human: string): number => {
    io.out(json ? `${toJson(v)}\n` : human);
    return Exit.OK;
  };
  const arity: Record<string, number> = { list: 0, branch: 2, tag: 2, set: 2, delete: 1 };
  if (sub === undefined || arity[sub] !== args.length) return usage(REF_HELP);
  return withClient(home, async (c) => {
    switch (sub) {
      case 'list': {
        const r = await call(c, 'ref.list', {});
        const rows = (r.refs as Obj[]).map(
          (x) => `${String(x.kind).padEnd(6)} ${String(x.name).padEnd(24)} ${String(x.target)}`,
        );
        return out(r, `${rows.join('\n')}\n`);
      }
      case 'delete': {
        const r = await call(c, 'ref.delete', { name: args[0]! });
        const gone = (r.invalidated as string[] | undefined) ?? [];
        return out(
          r,
          `deleted ${args[0]}\n${gone.map((id) => `invalidated working set ${id}\n`).join('')}`,
        );
      }
      default: {
        const target = await resolveTarget(c, args[1]!);
        const op =
          sub === 'branch' ? 'ref.create_branch' : sub === 'tag' ? 'ref.create_tag' : 'ref.set';
        const r = await call(c, op, {
          name: args[0]!,
          target,
          ...(sub === 'set' && force ? { force: true } : {}),
        });
        return out(r, `${args[0]} -> ${target}\n`);
      }
    }
  });
}

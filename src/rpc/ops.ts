import { randomUUID } from 'node:crypto';
import { type CborValue, isHashHex } from '../codec/index.js';
import type { JitNode, NodeId } from '../dag/index.js';
import { describeValue } from '../errors/index.js';
import type { Kernel } from '../kernel/index.js';
import { RefNotFoundError } from '../store/index.js';
import { BadRequestError } from './errors.js';
import type { Handler } from './server.js';

/** Capabilities this kernel speaks (RFC-0014 names). */
export const CAPABILITIES = [
  'jit.abi',
  'jit.audit',
  'jit.commit',
  'jit.dag',
  'jit.refs',
  'jit.rpc',
  'jit.sws',
  'jit.wal',
] as const;

type M = Record<string, CborValue>;

function map(p: CborValue): M {
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Uint8Array) {
    throw new BadRequestError('the payload must be a map');
  }
  return p as M;
}

function str(m: M, key: string, optional = false): string | undefined {
  const v = m[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0)
    throw new BadRequestError(`payload.${key} must be a non-empty string, not ${describeValue(v)}`);
  return v;
}

function need(m: M, key: string): string {
  return str(m, key)!;
}

function nodeIdOf(m: M, key: string): NodeId {
  const v = m[key];
  if (!isHashHex(v))
    throw new BadRequestError(
      `payload.${key} must be a NodeID (64 lowercase hex), not ${describeValue(v)}`,
    );
  return v;
}

function uintOf(m: M, key: string): number | undefined {
  const v = m[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new BadRequestError(`payload.${key} must be a non-negative integer`);
  return v;
}

/** A node as the RPC shows it: ids in hex, payload as stored. */
export function nodeView(id: NodeId, n: JitNode): CborValue {
  return { id, type: n.type, parents: [...n.parents], lamport: n.meta.lamport, payload: n.payload };
}

/**
 * The RFC-0007 operations over a kernel. Every payload is a map; ids travel as hex text, file
 * content as byte strings, a patch in its canonical CBOR form. The `agent` of commit and discard
 * is the caller's word until connections are bound to keys (the identity issue).
 */
export function kernelOps(
  kernel: Kernel,
  info: () => CborValue | Promise<CborValue>,
): Map<string, Handler> {
  const sessionId = randomUUID();
  const dag = (): typeof kernel.store.reader => kernel.store.reader;
  const node = (id: NodeId): JitNode => dag().get(id);
  /** A ref update from a payload {name, target}, answered as {ref}. */
  const setRef = async (
    m: M,
    kind: 'branch' | 'tag',
    extra: { expect?: NodeId | null; force?: boolean },
  ): Promise<CborValue> => {
    const r = await kernel.setRef({
      name: need(m, 'name'),
      kind,
      target: nodeIdOf(m, 'target'),
      ...extra,
    });
    return { ref: r === null ? null : { ...r } };
  };
  const expectOf = (m: M): { expect?: NodeId | null } =>
    m.expect === undefined ? {} : { expect: m.expect === null ? null : nodeIdOf(m, 'expect') };
  const ops: [string, Handler][] = [
    [
      'handshake',
      (_p, ctx) => ({
        status: 'OK',
        server_version: 0x0100,
        capabilities: [...CAPABILITIES],
        session_id: sessionId,
        challenge: ctx.challenge,
      }),
    ],
    ['jit.info', () => info()],
    ['jit.fsck', async () => (await kernel.fsck()) as unknown as CborValue],
    [
      'shadow.create',
      async (p) => {
        const m = map(p);
        const delegates = m.delegates ?? [];
        if (!Array.isArray(delegates))
          throw new BadRequestError('payload.delegates must be an array of agent ids');
        const meta = m.meta ?? {};
        return kernel.create({
          ref: str(m, 'ref', true) ?? 'main',
          owner: need(m, 'owner'),
          delegates: delegates as string[],
          meta: map(meta) as Record<string, string>,
        });
      },
    ],
    ['shadow.apply_patch', (p) => kernel.applyPatch(need(map(p), 'id'), map(p).patch)],
    [
      'shadow.read',
      (p) => kernel.read(need(map(p), 'id'), need(map(p), 'path')) as Promise<CborValue>,
    ],
    [
      'shadow.files',
      async (p) => ({ files: Object.fromEntries(await kernel.files(need(map(p), 'id'))) }),
    ],
    [
      'shadow.diff',
      async (p) => ({ changes: (await kernel.diff(need(map(p), 'id'))) as unknown as CborValue }),
    ],
    ['shadow.status', (p) => kernel.status(need(map(p), 'id'))],
    [
      'shadow.annotate',
      (p) => {
        const m = map(p);
        const range = m.range ?? null;
        return kernel.annotate(need(m, 'id'), {
          author: need(m, 'author'),
          path: need(m, 'path'),
          severity: need(m, 'severity') as 'info',
          message: need(m, 'message'),
          range: range as [number, number] | null,
        });
      },
    ],
    ['shadow.list', async () => ({ sws: await kernel.list() })],
    ...(['add', 'remove'] as const).map((how): [string, Handler] => [
      `shadow.${how}_member`,
      (p) => {
        const m = map(p);
        const by = m.by === undefined || m.by === null ? null : need(m, 'by');
        return kernel.setMember(need(m, 'id'), need(m, 'agent'), how === 'add', by);
      },
    ]),
    ['shadow.discard', (p) => kernel.discard(need(map(p), 'id'), need(map(p), 'agent'))],
    [
      'shadow.commit',
      async (p) => {
        const m = map(p);
        return (await kernel.commit(
          need(m, 'id'),
          need(m, 'agent'),
          str(m, 'message', true),
        )) as unknown as CborValue;
      },
    ],
    [
      'collapse.validate',
      async (p) =>
        (await kernel.validate(need(map(p), 'id'), need(map(p), 'agent'))) as unknown as CborValue,
    ],
    [
      'ref.get',
      (p) => {
        const name = need(map(p), 'name');
        const r = kernel.store.getRef(name);
        if (r === undefined)
          throw new RefNotFoundError(`no ref named ${describeValue(name)}`, { ref: name });
        return { ...r };
      },
    ],
    ['ref.list', () => ({ refs: kernel.store.refs().map((r) => ({ ...r })) })],
    [
      'ref.set',
      (p) => setRef(map(p), 'branch', { ...expectOf(map(p)), force: map(p).force === true }),
    ],
    ['ref.create_branch', (p) => setRef(map(p), 'branch', { expect: null })],
    ['ref.create_tag', (p) => setRef(map(p), 'tag', {})],
    [
      'ref.delete',
      async (p) => {
        const name = need(map(p), 'name');
        const { invalidated } = await kernel.deleteRef(name);
        return { deleted: name, invalidated };
      },
    ],
    [
      'audit.append',
      (p) => {
        const m = map(p);
        return kernel.appendAudit(m.event, need(m, 'by'));
      },
    ],
    ['audit.head', () => ({ head: kernel.auditHead() })],
    [
      'audit.log',
      (p) => {
        const m = map(p);
        const from = uintOf(m, 'from');
        const limit = uintOf(m, 'limit');
        const r = kernel.auditLog({
          ...(from !== undefined ? { from } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        return r as unknown as CborValue;
      },
    ],
    ['dag.get_node', (p) => nodeView(nodeIdOf(map(p), 'id'), node(nodeIdOf(map(p), 'id')))],
    ['dag.get_parents', (p) => ({ parents: [...dag().parents(nodeIdOf(map(p), 'id'))] })],
    [
      'dag.lineage',
      (p) => {
        const m = map(p);
        return { ancestors: dag().lineage(nodeIdOf(m, 'id'), uintOf(m, 'depth')) };
      },
    ],
    [
      'dag.subgraph',
      (p) => {
        const m = map(p);
        const g = dag().subgraph(nodeIdOf(m, 'root'), uintOf(m, 'limit'));
        return { nodes: g.nodes, edges: g.edges.map((e) => ({ ...e })) };
      },
    ],
  ];
  const table = new Map<string, Handler>(ops);
  table.set('collapse.commit', table.get('shadow.commit')!);
  return table;
}

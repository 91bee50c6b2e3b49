import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type CborValue, isHashHex } from '../codec/index.js';
import { blobNode, nodeId } from '../dag/index.js';
import type { RpcClient } from '../rpc/index.js';
import { agentOf, call, type Obj, resolveTarget, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { HEAD_FILE, readHead, writeHead } from './head.js';
import { type Io, progress, toJson } from './output.js';

export const IMPORT_HELP = `jit import — a directory becomes a snapshot

Usage: jit import DIR [--ref BRANCH] [-m MESSAGE] [--agent ME]

Makes BRANCH (the checkout's branch if DIR is a checkout, else main) hold exactly the files under DIR: new and changed files are put, files that
are gone are deleted, through one SWS that is then committed. Skips .git, .jit and symbolic
links. Shows progress on a terminal.
`;

export const CHECKOUT_HELP = `jit checkout — a snapshot becomes a directory

Usage: jit checkout REF|NODE DIR

Writes every file of the snapshot into DIR, which must be empty or missing, and records the local
HEAD (the ref and snapshot) in DIR/.jithead; a node id gives a detached HEAD.
`;

const SKIP = new Set(['.git', '.jit', 'node_modules', HEAD_FILE]);
/** Keep each patch well inside one RPC frame. */
const MAX_OPS = 1000;
const MAX_BYTES = 8 * 1024 * 1024;

async function walk(root: string, skip: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (SKIP.has(name)) continue;
      const p = join(dir, name);
      if (resolve(p) === skip) continue;
      const st = await lstat(p);
      if (st.isDirectory()) await visit(p);
      else if (st.isFile()) out.set(relative(root, p).split(sep).join('/'), p);
    }
  };
  await visit(root);
  return out;
}

export async function importDir(
  io: Io,
  home: string,
  json: boolean,
  dir: string,
  refFlag: string | undefined,
  message: string | undefined,
  agentFlag: string | undefined,
): Promise<number> {
  const agent = agentOf(agentFlag);
  // a checkout imports back to the branch it came from, and its HEAD follows
  const head = await readHead(dir);
  const ref = refFlag ?? head?.ref ?? 'main';
  const files = await walk(resolve(dir), resolve(home));
  return withClient(home, async (c) => {
    const { id } = await call(c, 'shadow.create', { ref, owner: agent });
    const current = (await call(c, 'shadow.files', { id })).files as Record<string, string>;
    const show = progress(io, 'importing');
    let ops: CborValue[] = [];
    let bytes = 0;
    let sent = 0;
    let put = 0;
    let removed = 0;
    const flush = async (): Promise<void> => {
      if (ops.length === 0) return;
      await call(c, 'shadow.apply_patch', { id, patch: { author: agent, ops } });
      ops = [];
      bytes = 0;
    };
    for (const [path, abs] of files) {
      const content = new Uint8Array(await readFile(abs));
      sent++;
      show(sent, files.size);
      if (current[path] === nodeId(blobNode(content))) continue;
      ops.push({ op: 'put', path, content });
      put++;
      bytes += content.length;
      if (ops.length >= MAX_OPS || bytes >= MAX_BYTES) await flush();
    }
    for (const path of Object.keys(current)) {
      if (files.has(path)) continue;
      ops.push({ op: 'delete', path });
      removed++;
      if (ops.length >= MAX_OPS) await flush();
    }
    await flush();
    if (put + removed === 0) {
      await call(c, 'shadow.discard', { id, agent });
      const r = { ok: true, unchanged: true, files: files.size };
      io.out(json ? `${toJson(r)}\n` : `${dir}: ${ref} already holds these ${files.size} files\n`);
      return Exit.OK;
    }
    const r = await call(c, 'shadow.commit', { id, agent, message: message ?? `import ${dir}` });
    if (head !== undefined && head.ref === ref)
      await writeHead(dir, { ref, snapshot: r.snapshot as string });
    const result = {
      ok: true,
      snapshot: r.snapshot,
      ref,
      files: files.size,
      put,
      deleted: removed,
    };
    io.out(
      json
        ? `${toJson(result)}\n`
        : `imported ${files.size} files (${put} put, ${removed} deleted) as ${String(r.snapshot)} on ${ref}\n`,
    );
    return Exit.OK;
  });
}

async function treeFiles(
  c: RpcClient,
  tree: string,
  at: string,
  out: Map<string, string>,
): Promise<void> {
  const n = await call(c, 'dag.get_node', { id: tree });
  for (const [name, e] of Object.entries(n.payload as Record<string, Obj>)) {
    const id = Buffer.from(e.id as Uint8Array).toString('hex');
    const p = at === '' ? name : `${at}/${name}`;
    if (e.kind === 'tree') await treeFiles(c, id, p, out);
    else out.set(p, id);
  }
}

export async function checkout(
  io: Io,
  home: string,
  json: boolean,
  what: string,
  dir: string,
): Promise<number> {
  const existing = await readdir(dir).catch(() => []);
  if (existing.length > 0) {
    io.err(`jit: ${dir} is not empty; check out into an empty or new directory\n`);
    return Exit.USAGE;
  }
  return withClient(home, async (c) => {
    const snap = await resolveTarget(c, what);
    const n = await call(c, 'dag.get_node', { id: snap });
    if (n.type !== 'snapshot') {
      io.err(`jit: ${what} is a ${String(n.type)}, not a snapshot\n`);
      return Exit.USAGE;
    }
    const files = new Map<string, string>();
    await treeFiles(
      c,
      Buffer.from((n.payload as Obj).tree as Uint8Array).toString('hex'),
      '',
      files,
    );
    const show = progress(io, 'checking out');
    let done = 0;
    for (const [path, blob] of files) {
      const target = join(dir, ...path.split('/'));
      await mkdir(join(target, '..'), { recursive: true });
      const b = await call(c, 'dag.get_node', { id: blob });
      await writeFile(target, b.payload as Uint8Array);
      show(++done, files.size);
    }
    await writeHead(dir, { ref: isHashHex(what) ? null : what, snapshot: snap });
    const r = { ok: true, snapshot: snap, files: files.size, dir };
    io.out(json ? `${toJson(r)}\n` : `checked out ${files.size} files of ${snap} into ${dir}\n`);
    return Exit.OK;
  });
}

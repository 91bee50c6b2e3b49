import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { startJitd as startInProcess } from '../../src/daemon/jitd.js';
import { readCheckpoint, storePaths } from '../../src/store/index.js';
import { capture } from '../helpers/io.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-d-');

const jitdBin = new URL('../../src/bin/jitd.js', import.meta.url).pathname;

const children = new Set<ChildProcess>();
after(() => {
  for (const p of children) p.kill('SIGKILL');
});

/** Starts the jitd binary on `home`; resolves once it prints where it listens. Killed at the end. */
function startJitd(home: string): Promise<{ p: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [jitdBin, '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d) => {
      err += String(d);
    });
    createInterface({ input: p.stdout! }).once('line', (line) => resolve({ p, line }));
    p.once('exit', (code) => reject(new Error(`jitd exited ${code}: ${err}`)));
  });
}

function pickKeys(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

describe('jitd and jit - as a newcomer runs them', () => {
  it('jitd starts, jit info answers (human and --json), a second jitd is refused, SIGTERM stops it cleanly', async () => {
    const home = await tmp();
    const { p, line } = await startJitd(home);
    assert.match(line, /^jitd listening on .*jitd\.sock/);

    const human = capture();
    assert.equal(await main(['info', '--home', home], human), 0);
    assert.match(human.stdout, /nodes\s+3/); // root, the empty tree, the initial snapshot of main
    assert.match(
      human.stdout,
      /plane {6}native \(native\)\n {11}connected: in process: \d+ groups/,
    );
    assert.match(human.stdout, /bridge: \d+ published, \d+ delivered, 0 rejected, 0 dead-lettered/);

    const json = capture();
    assert.equal(await main(['info', '--home', home, '--json'], json), 0);
    const info = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(info.ok, true);
    assert.equal(info.node_count, 3);
    assert.equal((info.plane as { connected: boolean }).connected, true);

    await assert.rejects(startJitd(home), /in use by process/);

    const locked = capture();
    assert.equal(
      await main(['wal', 'repair', '--home', home], locked),
      3,
      'repair refuses while jitd holds the lock',
    );
    assert.match(locked.stderr, /in use by process/);

    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    p.kill('SIGTERM');
    assert.equal(await exited, 0);

    const verify = capture();
    assert.equal(await main(['wal', 'verify', '--home', home, '--json'], verify), 0);
    const v = JSON.parse(verify.stdout) as {
      ok: boolean;
      records: number;
      ops: Record<string, number>;
    };
    assert.equal(v.ok, true);
    assert.equal(v.ops['7'], 1, 'a clean stop writes a checkpoint record');
  });

  it('jitd whose output pipes were closed keeps serving and still stops cleanly (exit 0)', async () => {
    // a supervisor or `jitd | head -1` may close jitd's stdout and stderr: a write to them then
    // fails with EPIPE, which must cost the output, never the daemon
    const home = await tmp();
    const { p } = await startJitd(home);
    p.stdout!.destroy();
    p.stderr!.destroy();
    const info = capture();
    assert.equal(await main(['info', '--home', home], info), 0);
    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    p.kill('SIGTERM'); // jitd logs "stopping" to stderr and prints "jitd stopped" to stdout
    assert.equal(await exited, 0);
    const verify = capture();
    assert.equal(await main(['wal', 'verify', '--home', home, '--json'], verify), 0);
    assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);
  });

  it('jit info without a running jitd says how to start it (exit 3)', async () => {
    const io = capture();
    assert.equal(await main(['info', '--home', await tmp()], io), 3);
    assert.match(io.stderr, /is jitd running\? start it with `npm start`/);
  });

  it('wal verify reports damage (exit 1) and wal repair salvages it', async () => {
    const home = await tmp();
    const { p } = await startJitd(home);
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exited;
    await writeFile(storePaths(home).wal, Buffer.from('garbage that is not a record'), {
      flag: 'a',
    });
    const v = capture();
    assert.equal(await main(['wal', 'verify', '--home', home], v), 1);
    assert.match(v.stdout, /torn tail/);
    const r = capture();
    assert.equal(await main(['wal', 'repair', '--home', home, '--json'], r), 0);
    assert.ok((JSON.parse(r.stdout) as { setAside: number }).setAside > 0);
    assert.equal(await main(['wal', 'verify', '--home', home], capture()), 0);
  });

  it('every command has --help; bad usage exits 2', async () => {
    for (const args of [
      ['help'],
      ['info', '--help'],
      ['wal', '--help'],
      ['init', '--help'],
      ['import', '--help'],
      ['checkout', '--help'],
      ['sws', '--help'],
      ['log', '--help'],
      ['show', '--help'],
      ['ref', '--help'],
      ['head', '--help'],
      ['fsck', '--help'],
    ]) {
      const io = capture();
      assert.equal(await main(args, io), 0, args.join(' '));
      assert.match(io.stdout, /Usage:\s+jit/);
    }
    for (const args of [
      ['nope'],
      ['wal'],
      ['wal', 'nope'],
      ['info', 'extra'],
      ['--bogus'],
      ['sws'],
      ['sws', 'status'],
      ['ref', 'tag', 'x'],
      ['import'],
      ['checkout', 'main'],
      ['log', 'a', 'b'],
      ['log', '--limit', '0'],
    ]) {
      assert.equal(await main(args, capture()), 2, args.join(' '));
    }
  });

  it('import and checkout round-trip a directory; re-import writes only what changed', async () => {
    const home = await tmp();
    const src = await tmp();
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    await writeFile(join(src, 'top.txt'), 'top\n');
    await writeFile(join(src, 'a', 'b', 'deep.bin'), new Uint8Array([0, 1, 2, 255]));
    await writeFile(join(src, 'gone.txt'), 'soon gone');
    const jitd = await startInProcess({ home });
    try {
      const first = capture();
      assert.equal(
        await main(['import', src, '--home', home, '--json', '--agent', 'importer'], first),
        0,
        first.stderr,
      );
      assert.deepEqual(pickKeys(JSON.parse(first.stdout), ['files', 'put', 'deleted']), {
        files: 3,
        put: 3,
        deleted: 0,
      });
      const same = capture();
      assert.equal(await main(['import', src, '--home', home, '--json'], same), 0);
      assert.equal(JSON.parse(same.stdout).unchanged, true);
      await rm(join(src, 'gone.txt'));
      await writeFile(join(src, 'top.txt'), 'top, changed\n');
      const again = capture();
      assert.equal(await main(['import', src, '--home', home, '--json'], again), 0);
      assert.deepEqual(pickKeys(JSON.parse(again.stdout), ['files', 'put', 'deleted']), {
        files: 2,
        put: 1,
        deleted: 1,
      });
      const out = join(await tmp(), 'out');
      assert.equal(await main(['checkout', 'main', out, '--home', home], capture()), 0);
      assert.equal(await readFile(join(out, 'top.txt'), 'utf8'), 'top, changed\n');
      assert.deepEqual([...(await readFile(join(out, 'a', 'b', 'deep.bin')))], [0, 1, 2, 255]);
      await assert.rejects(readFile(join(out, 'gone.txt')));
      assert.equal(
        await main(['checkout', 'main', out, '--home', home], capture()),
        2,
        'a non-empty target is refused',
      );
      const log = capture();
      assert.equal(await main(['log', '--home', home, '--json'], log), 0);
      assert.equal((JSON.parse(log.stdout) as { log: unknown[] }).log.length, 3);
      // byte strings print as hex, not as a Buffer's {type, data}
      const shown = capture();
      assert.equal(await main(['show', 'main', '--home', home, '--json'], shown), 0);
      const node = JSON.parse(shown.stdout) as { payload: { tree: unknown } };
      assert.match(String(node.payload.tree), /^[0-9a-f]{64}$/);
    } finally {
      await jitd.stop();
    }
  });

  it('local HEAD: checkout records it outside the kernel; head shows it; import follows it', async () => {
    const home = await tmp();
    const src = await tmp();
    await writeFile(join(src, 'a.txt'), 'a\n');
    const jitd = await startInProcess({ home });
    try {
      assert.equal(await main(['import', src, '--home', home], capture()), 0);
      const walBefore = jitd.kernel.store.walBytes;
      const co = join(await tmp(), 'co');
      assert.equal(await main(['checkout', 'main', co, '--home', home], capture()), 0);
      assert.equal(jitd.kernel.store.walBytes, walBefore, 'HEAD is never written to the kernel');
      const h = capture();
      assert.equal(await main(['head', co, '--home', home, '--json'], h), 0);
      const head = JSON.parse(h.stdout) as {
        ref: string;
        snapshot: string;
        behind: boolean;
        detached: boolean;
      };
      assert.deepEqual(
        [head.ref, head.snapshot, head.behind, head.detached],
        ['main', jitd.kernel.store.getRef('main')?.target, false, false],
      );
      // change the checkout and import it back: same branch, and HEAD follows
      await writeFile(join(co, 'b.txt'), 'b\n');
      assert.equal(await main(['import', co, '--home', home], capture()), 0);
      const after = JSON.parse((await readFile(join(co, '.jithead'), 'utf8')).trim()) as {
        snapshot: string;
      };
      assert.equal(after.snapshot, jitd.kernel.store.getRef('main')?.target);
      // another import elsewhere moves main: the checkout's HEAD is now behind
      await writeFile(join(src, 'c.txt'), 'c\n');
      assert.equal(await main(['import', src, '--home', home], capture()), 0);
      const behind = capture();
      assert.equal(await main(['head', co, '--home', home], behind), 0);
      assert.match(behind.stdout, /main has moved on to/);
      // a node id gives a detached HEAD; a plain directory has none
      const det = join(await tmp(), 'det');
      assert.equal(await main(['checkout', after.snapshot, det, '--home', home], capture()), 0);
      const d = capture();
      assert.equal(await main(['head', det, '--home', home], d), 0);
      assert.match(d.stdout, /HEAD detached at/);
      assert.equal(await main(['head', src, '--home', home], capture()), 1);
    } finally {
      await jitd.stop();
    }
  });

  it('jitd checkpoints on its own once the log has grown past the threshold', async () => {
    const home = await tmp();
    const jitd = await startInProcess({ home, checkpointBytes: 1, checkpointEveryMs: 20 });
    try {
      const src = await tmp();
      await writeFile(join(src, 'f.txt'), 'f\n');
      assert.equal(await main(['import', src, '--home', home], capture()), 0);
      const deadline = Date.now() + 5000;
      let found = false;
      while (!found && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        found = await readFile(storePaths(home).checkpoint).then(
          () => true,
          () => false,
        );
      }
      assert.ok(found, 'no checkpoint was written');
    } finally {
      await jitd.stop();
    }
    const k = await startInProcess({ home });
    assert.equal(k.kernel.store.boot.checkpoint, 'used');
    await k.stop();
  });

  it("jitd spaces its checkpoints by 4x the last one's size: a little more log takes none, a lot takes one", async () => {
    const home = await tmp();
    const jitd = await startInProcess({ home, checkpointBytes: 1, checkpointEveryMs: 20 });
    const k = jitd.kernel;
    const offset = async (): Promise<number> => {
      const c = await readCheckpoint(storePaths(home).checkpoint);
      return typeof c === 'string' ? -1 : c.walOffset;
    };
    const until = async (what: () => Promise<boolean>, why: string): Promise<void> => {
      for (const deadline = Date.now() + 5000; !(await what()); ) {
        assert.ok(Date.now() < deadline, why);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const sws = (await k.create({ ref: 'main', owner: 'a' })).id;
      await until(async () => (await offset()) >= 0, 'no first checkpoint');
      const first = await offset();
      const size = (await stat(storePaths(home).checkpoint)).size;
      // a patch of a few hundred bytes of log: well under 4x the checkpoint, so none is due
      await k.applyPatch(sws, {
        author: 'a',
        ops: [{ op: 'put', path: 'x', content: new Uint8Array(8) }],
      } as never);
      assert.ok(k.store.walBytes - first < 4 * size, 'the small patch stays under the spacing');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        await offset(),
        first,
        'a checkpoint was taken for less than 4x its size of log',
      );
      // more than 4x the checkpoint's size: the next look takes one
      await k.applyPatch(sws, {
        author: 'a',
        ops: [{ op: 'put', path: 'y', content: new Uint8Array(8 * size).fill(1) }],
      } as never);
      await until(async () => (await offset()) > first, 'no checkpoint after 4x its size of log');
    } finally {
      await jitd.stop();
    }
  });
});

import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Whether a broker test may run: locally a missing broker skips with this reason; in CI
 * (CI=true) it is a failure instead (`.ci/run` starts the brokers).
 */
export async function brokerSkip(name: string, port: number): Promise<string | false> {
  if (await listening(port)) return false;
  if (process.env.CI === 'true')
    throw new Error(`${name} is not listening on 127.0.0.1:${port} in CI`);
  return `${name} is not listening on 127.0.0.1:${port} (start it: scripts/services.sh)`;
}

/** The pid and command line of the process whose command line contains `needle`. */
async function findProcess(needle: string): Promise<{ pid: number; argv: string[] } | undefined> {
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const argv = (await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => ''))
      .split('\0')
      .filter((x) => x !== '');
    if (argv.join(' ').includes(needle) && Number(d) !== process.pid)
      return { pid: Number(d), argv };
  }
  return undefined;
}

/**
 * Restarts the broker listening on `port` whose command line contains `needle`: SIGTERM, wait for
 * the port to close, start the same command line again (detached), wait for the port to open.
 */
export async function restartBroker(needle: string, port: number): Promise<void> {
  const p = await findProcess(needle);
  if (p === undefined) throw new Error(`no process matching "${needle}" to restart`);
  process.kill(p.pid, 'SIGTERM');
  for (let i = 0; i < 200 && (await listening(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  const child = spawn(p.argv[0]!, p.argv.slice(1), { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 200 && !(await listening(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  if (!(await listening(port))) throw new Error(`${needle} did not come back on ${port}`);
}

/**
 * Restarts the local Redis the way `scripts/services.sh` starts it: Redis rewrites its process
 * title, so its command line cannot be read back. SHUTDOWN NOSAVE, wait for the port to close,
 * start it again, wait for the port to open. Without persistence it comes back empty.
 */
export async function restartRedis(port = 6379): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => s.write('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n'));
    s.once('close', () => resolve());
    s.once('error', () => resolve());
  });
  for (let i = 0; i < 200 && (await listening(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  const args = ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port)];
  const child = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 200 && !(await listening(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  if (!(await listening(port))) throw new Error(`redis-server did not come back on ${port}`);
}

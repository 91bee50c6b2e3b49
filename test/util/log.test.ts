import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/util/log.js';

function sink(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: () => string; isTTY: boolean };
  w.text = () => chunks.join('');
  w.isTTY = isTTY;
  return w;
}

describe('structured logs', () => {
  it('writes one JSON object a line, with its level and component, and never a key', () => {
    const out = sink();
    const log = createLogger({ destination: out, level: 'info' }).child({ component: 'jitd' });
    log.info(
      { socket: '/x.sock', key: 'SECRET-KEY', agent: { id: 'a', secretKey: 'S2' } },
      'serving',
    );
    log.debug('not at info');
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec.level, 30);
    assert.equal(rec.component, 'jitd');
    assert.equal(rec.msg, 'serving');
    assert.equal(rec.socket, '/x.sock');
    assert.equal(rec.key, '[redacted]');
    assert.deepEqual(rec.agent, { id: 'a', secretKey: '[redacted]' });
    assert.doesNotMatch(out.text(), /SECRET-KEY|S2/);
  });

  it('is readable on a terminal: one line with the time, level, component and message', () => {
    const out = sink(true);
    createLogger({ destination: out })
      .child({ component: 'dashboard' })
      .warn({ port: 7420 }, 'busy');
    const text = out.text();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes on a terminal
    const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: dashboard: busy \{"port":7420\}\n$/);
  });

  it('refuses a level it does not know, naming the ones it does', () => {
    assert.throws(
      () => createLogger({ level: 'loud' }),
      /JIT_LOG_LEVEL is one of fatal, error, warn, info, debug, trace, silent, not loud/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from '../../src/mp/fair-queue.js';

describe('the bridge fair queue', () => {
  it('runs FIFO per key and round-robin across keys, at most `limit` at once', async () => {
    const q = new FairQueue(2);
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const job = (name: string) => async (): Promise<string> => {
      started.push(name);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return name;
    };
    // a flooder queues 6 jobs, then an honest key queues 2
    const all = [
      ...[1, 2, 3, 4, 5, 6].map((i) => q.run('eve', job(`eve${i}`))),
      q.run('ann', job('ann1')),
      q.run('ann', job('ann2')),
    ];
    assert.equal(q.waiting, 6, 'two start at once; six wait');
    assert.deepEqual(await Promise.all(all), [
      'eve1',
      'eve2',
      'eve3',
      'eve4',
      'eve5',
      'eve6',
      'ann1',
      'ann2',
    ]);
    assert.equal(most, 2);
    assert.ok(started.indexOf('ann1') <= 3, `ann waits behind at most one of eve's: ${started}`);
    assert.ok(started.indexOf('ann2') <= 5, `${started}`);
    for (let i = 1; i < 6; i++)
      assert.ok(started.indexOf(`eve${i}`) < started.indexOf(`eve${i + 1}`), 'FIFO per key');
  });

  it('passes a job failure to its caller and goes on', async () => {
    const q = new FairQueue(1);
    const bad = q.run('x', () => Promise.reject(new Error('no')));
    const good = q.run('x', async () => 'yes');
    await assert.rejects(bad, /no/);
    assert.equal(await good, 'yes');
  });
});

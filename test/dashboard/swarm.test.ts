import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { runDemoSwarm } from '../../src/cli/demo-swarm.js';
import { main } from '../../src/cli/main.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { ARTIFACTS, browserSkip, launch } from '../helpers/browser.js';
import { capture } from '../helpers/io.js';
import { tmpDirs } from '../helpers/tmp.js';

/** The page's element count (run in the page; the tests compile without the DOM types). */
const countNodes = (): number =>
  (
    globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
  ).document.querySelectorAll('*').length;

const skip = await browserSkip();
const tmp = tmpDirs('jit-swarm-');

describe('jit demo', () => {
  it('runs to completion on a jitd of its own: every intent committed, audited', async () => {
    const io = capture();
    const code = await main(['demo', '--home', join(await tmp(), 'none'), '--json'], io);
    assert.equal(code, 0, io.stderr);
    const r = JSON.parse(io.stdout) as {
      agents: number;
      committed: number;
      intents: { outcome: string; audit: number; agents: string[]; quorum: string }[];
      patches: number;
      findings: number;
    };
    assert.equal(r.agents, 12);
    assert.equal(r.committed, r.intents.length);
    assert.equal(r.intents[0]!.agents.length, 3);
    assert.match(r.intents[0]!.quorum, /4 agree/);
    assert.equal(r.patches, 3 * 2 * r.intents.length); // a tester and a writer, three patches each
    assert.equal(r.findings, r.intents.length);
    assert.match(io.stderr, /watch it on the dashboard: http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('says what is wrong with its options', async () => {
    const io = capture();
    assert.equal(await main(['demo', '--agents', '5'], io), 2);
    assert.match(io.stderr, /--agents takes a whole number from 8 to 1000/);
    const io2 = capture();
    assert.equal(await main(['demo', '--agents', '12', '--intents', '3'], io2), 2);
    assert.match(io2.stderr, /--intents 3 needs --agents 16 or more/);
  });
});

describe('the dashboard while a 100-agent swarm runs', { skip }, () => {
  let jitd: Jitd;
  let browser: Browser;
  before(async () => {
    if (skip) return;
    jitd = await startJitd({ home: await tmp(), dashboard: { port: 0 } });
    browser = await launch();
  });
  after(async () => {
    if (skip) return;
    await browser?.close();
    await jitd?.stop();
  });

  it('stays responsive, drops no update and keeps its memory bounded', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${jitd.dashboardUrl!}#overview`);
    await page.waitForSelector('[data-testid=live]:has-text("live")');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async (): Promise<number> => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as {
        metrics: { name: string; value: number }[];
      };
      return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
    };
    const heapBefore = await heap();
    // how long the page takes to answer, sampled while the swarm runs
    let sampling = true;
    const delays: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const t = performance.now();
        await page.evaluate(countNodes);
        delays.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const lines: string[] = [];
    const r = await runDemoSwarm({ home: jitd.home, agents: 100, say: (l) => lines.push(l) });
    assert.equal(
      r.intents.filter((i) => i.outcome === 'completed').length,
      r.intents.length,
      lines.join('\n'),
    );
    // the page catches up with every event jitd numbered, with no gap and no resync
    const sent = (
      (await (await fetch(new URL('/api/live', jitd.dashboardUrl!))).json()) as { n: number }
    ).n;
    await page.waitForFunction(
      (n) => (globalThis as unknown as { jitDashboard: { last: number } }).jitDashboard.last >= n,
      sent,
      { timeout: 15_000 },
    );
    sampling = false;
    await sampler;
    const stats = (await page.evaluate(
      () => (globalThis as unknown as { jitDashboard: unknown }).jitDashboard,
    )) as { gaps: number; resyncs: number; received: number; connects: number; maxLag: number };
    assert.equal(stats.gaps, 0);
    assert.equal(stats.resyncs, 0);
    assert.equal(stats.connects, 1);
    assert.ok(stats.received >= sent - 1, `${stats.received} of ${sent}`);
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.floor(delays.length * 0.99)] ?? 0;
    const worst = delays[delays.length - 1] ?? 0;
    const domNodes = await page.evaluate(countNodes);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-swarm.png') });
    await page.click('button[data-view="agents"]');
    await page.waitForSelector('[data-testid=agents] td:has-text("demo ")');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-swarm-agents.png') });
    const heapAfter = await heap();
    process.stdout.write(
      `# swarm: ${r.agents} agents, ${sent} events; the page's event loop was at most ${stats.maxLag.toFixed(0)} ms late; round trips p99 ${p99.toFixed(0)} ms (worst ${worst.toFixed(0)} ms, ${delays.length} samples); heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB; ${domNodes} DOM nodes\n`,
    );
    // the page's own event loop (the round trips above also wait on this busy test process)
    assert.ok(
      stats.maxLag < 500,
      `the page's event loop stalled for ${stats.maxLag.toFixed(0)} ms`,
    );
    assert.ok(heapAfter < 64e6, `the page holds ${(heapAfter / 1e6).toFixed(1)} MB`);
    assert.ok(domNodes < 5000, `${domNodes} DOM nodes`);
    assert.deepEqual(errors, []);
  });
});

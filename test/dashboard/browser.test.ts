import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { ARTIFACTS, browserSkip, launch } from '../helpers/browser.js';
import { tmpDirs } from '../helpers/tmp.js';

const skip = await browserSkip();
const tmp = tmpDirs('jit-web-');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const keys = { alice: KeyPair.generate(), lint: KeyPair.generate() };
let jitd: Jitd;
let browser: Browser;
let page: Page;
const agents: Agent[] = [];
const errors: string[] = [];

before(async () => {
  if (skip) return;
  jitd = await startJitd({ home: await tmp(), dashboard: { port: 0 } });
  await registerAgents(jitd.home, Object.entries(keys));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
});
after(async () => {
  if (skip) return;
  await browser?.close();
  for (const a of agents) await a.close();
  await jitd?.stop();
});

async function connect(agent: keyof typeof keys): Promise<Agent> {
  const a = await Agent.connect({ agent, key: keys[agent], plane: socketPath(jitd.home) });
  agents.push(a);
  return a;
}

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`) });
const view = (name: string) => page.click(`button[data-view="${name}"]`);
const stats = () =>
  page.evaluate(
    () =>
      (globalThis as unknown as { jitDashboard: { gaps: number; received: number; last: number } })
        .jitDashboard,
  );

describe('the dashboard in a real browser', { skip }, () => {
  let sws: string;
  let alice: Agent;

  it('loads from jitd alone (no asset fetched elsewhere) and goes live', async () => {
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(jitd.dashboardUrl!)) outside.push(r.url());
    });
    await page.goto(jitd.dashboardUrl!);
    await page.waitForSelector('[data-testid=live]:has-text("live")');
    await page.waitForSelector('[data-chart="patches"]');
    assert.deepEqual(outside, []);
    await shot('overview');
  });

  it('shows a working set a test agent opens, and its patch count as patches land, without a reload', async () => {
    await view('working sets');
    alice = await connect('alice');
    sws = await alice.openSws();
    await alice.addMember(sws, 'lint');
    const row = page.locator(`tr[data-sws="${sws}"]`);
    await row.waitFor();
    assert.equal(await row.locator('[data-testid=patches]').textContent(), '0');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await alice.patch(sws, [{ op: 'put', path: 'notes.txt', content: enc('plan\nbuild\n') }]);
    const patches = row.locator('[data-testid=patches]');
    await patches.filter({ hasText: /^1$/ }).waitFor();
    await alice.patch(sws, [{ op: 'put', path: 'notes.txt', content: enc('plan\nbuild\nship\n') }]);
    await patches.filter({ hasText: /^2$/ }).waitFor();
    assert.deepEqual(navigations, []); // live: the page never reloaded
    const lint = await connect('lint');
    await lint.analyze(sws, { path: 'notes.txt', severity: 'warning', message: 'ship when?' });
    await row.click();
    await page.locator('[data-testid=sws-detail] tr.pick').first().click();
    await page.waitForSelector('[data-testid=diff] .add:has-text("ship")');
    await page.waitForSelector('[data-testid=sws-detail] td:has-text("ship when?")');
    await shot('working-sets');
  });

  it('shows the commit in the history graph, and the node when clicked', async () => {
    const r = (await alice.commit(sws, { message: 'ship it' })) as { snapshot: string };
    await view('history');
    const node = page.locator(`g[data-node="${r.snapshot}"]`);
    await node.waitFor();
    assert.match((await node.textContent()) ?? '', /\(main\).*ship it/);
    await node.locator('circle').click();
    await page.waitForSelector('[data-testid=node-detail] td:has-text("ship it")');
    await shot('history');
  });

  it('shows the audit entry, and the chain as verified', async () => {
    await alice.rpc!.call('audit.append', { event: { type: 'release', snapshot: 'ship it' } });
    await view('audit');
    await page.waitForSelector('[data-testid=audit] td:has-text("release")');
    assert.match(
      (await page.locator('[data-testid=audit-status]').textContent()) ?? '',
      /verified.*kernel signature up to entry 0/,
    );
    await shot('audit');
  });

  it('shows agents and a negotiation as they happen', async () => {
    const lintJitna = await agents[1]!.jitna({
      capabilities: {
        name: 'linter',
        version: '1',
        supported_actions: ['lint'],
        supported_formats: ['txt'],
        security_level: 2,
        status: 'healthy',
        load: 0.2,
      },
      onProposal: () => ({ accept: true, run: () => ({ findings: 0 }) }),
      heartbeatMs: 500,
    });
    const planner = await alice.jitna();
    for (let i = 0; i < 100 && planner.discover({ action: 'lint' }).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    const done = await planner.negotiate({ action: 'lint', terms: { action: 'lint', files: 1 } });
    assert.equal(done.state, 'completed');
    await view('agents');
    await page.waitForSelector('[data-testid=agents] td:has-text("linter")');
    await page.waitForSelector('[data-testid=negotiations] .state.completed');
    await shot('agents');
    await lintJitna.close();
    await planner.close();
    const s = await stats();
    assert.equal(s.gaps, 0);
    assert.ok(s.received > 0);
    assert.deepEqual(errors, []);
  });
});

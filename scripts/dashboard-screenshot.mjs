#!/usr/bin/env node
// Makes docs/dashboard.png, the README's picture: a jitd of its own on a temporary directory, a
// 40-agent demo swarm, then Debian chromium (playwright-core) on the dashboard's overview and
// working sets. Run after `npm run build`: node scripts/dashboard-screenshot.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runDemoSwarm } from '../dist/src/cli/demo-swarm.js';
import { startJitd } from '../dist/src/daemon/jitd.js';

const home = await mkdtemp(join(tmpdir(), 'jit-shot-'));
const jitd = await startJitd({ home, dashboard: { port: 0 } });
const browser = await chromium.launch({
  executablePath: process.env.JIT_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await page.goto(jitd.dashboardUrl);
  await page.waitForSelector('[data-testid=live]:has-text("live")');
  for (let round = 0; round < 3; round++)
    await runDemoSwarm({ home, agents: 40, say: (l) => console.error(l) });
  await page.waitForTimeout(2500);
  await page.screenshot({ path: 'docs/dashboard.png' });
  await page.click('button[data-view="working sets"]');
  await page.locator('tr[data-sws]').first().click();
  await page.locator('[data-testid=sws-detail] tr.pick').first().click();
  await page.waitForSelector('[data-testid=diff]');
  await page.screenshot({ path: 'docs/dashboard-working-sets.png' });
} finally {
  await browser.close();
  await jitd.stop();
  await rm(home, { recursive: true, force: true });
}

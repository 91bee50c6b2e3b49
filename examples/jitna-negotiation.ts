/**
 * Three agents find each other and negotiate over JITNA: two analyzers announce capability cards,
 * a planner discovers them (ranked: healthy first, the least privilege that is enough, the lowest
 * load), proposes the work to the best, is turned down, re-routes to the next, takes its
 * counter-offer, and gets the result. Every packet is signed and checked against the trust store.
 *
 *   npm start                                          # in one terminal
 *   npm run --silent example -- jitna-negotiation      # in another
 */
import { agents, log } from './setup.js';

const [planner, lintBot, reviewBot] = await agents(['planner', 'lint-bot', 'review-bot']);
const analyze = {
  supported_actions: ['analyze'],
  supported_formats: ['ts'],
  status: 'healthy' as const,
};
const lint = await lintBot!.jitna({
  capabilities: { ...analyze, name: 'lint bot', version: '1.0.0', security_level: 2, load: 0.1 },
  onProposal: ({ from, offer }) => {
    const files = Number(offer.terms.files);
    log(`lint-bot:   ${from} asks for ${files} files`);
    return files > 10
      ? { reject: `${files} files is more than I take (10)` }
      : { accept: true, run: () => ({ findings: 0 }) };
  },
});
const review = await reviewBot!.jitna({
  capabilities: { ...analyze, name: 'review bot', version: '2.1.0', security_level: 3, load: 0.4 },
  onProposal: ({ from, offer }) => {
    log(`review-bot: ${from} asks for ${String(offer.terms.files)} files; I need 120 s for that`);
    return {
      counter: { ...offer.terms, deadline_s: 120 },
      run: (terms) => ({ findings: 3, files: terms.files ?? null, note: 'reviewed' }),
    };
  },
});
const me = await planner!.jitna();
// the cards arrive with the bots' first heartbeats
for (let i = 0; me.discover({ action: 'analyze' }).length < 2; i++) {
  if (i > 500) throw new Error('no analyzer announced itself');
  await new Promise((r) => setTimeout(r, 10));
}
const ranked = me.discover({ action: 'analyze', format: 'ts', minSecurityLevel: 2 });
log(
  `planner:    found ${ranked.map((c) => `${c.adapter_id} (level ${c.security_level}, load ${c.load})`).join(', ')}`,
);
const out = await me.negotiate({
  action: 'analyze',
  format: 'ts',
  minSecurityLevel: 2,
  terms: { files: 40, repo: 'main' },
  acceptCounter: (terms, from) => {
    log(`planner:    ${from} counters with ${JSON.stringify(terms)}: accepted`);
    return Number(terms.deadline_s) <= 300;
  },
});
for (const t of out.tried)
  log(`planner:    ${t.agent}: ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
console.log(`negotiated: ${out.state} by ${out.agent}, result ${JSON.stringify(out.result)}`);
for (const a of [me, lint, review]) await a.close();
for (const a of [planner, lintBot, reviewBot]) await a!.close();

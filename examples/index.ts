/** `npm run example -- NAME`: runs one of the examples against the running jitd. */
const names = ['two-agents', 'analyzer-swarm', 'jitna-negotiation', 'jitna-swarm'];
const name = process.argv[2];
if (name === undefined || !names.includes(name)) {
  process.stderr.write(`usage: npm run example -- ${names.join('|')}\n`);
  process.exit(2);
}
await import(`./${name}.js`);

import { codecBenches } from './codec.bench.js';
import { fmtRate } from './harness.js';

const only = process.argv.slice(2);
function want(name: string): boolean {
  return only.length === 0 || only.includes(name);
}

if (want('codec')) {
  console.log('## codec');
  for (const r of codecBenches()) {
    console.log(
      `${r.name}: ${fmtRate(r.candidate)} vs ${fmtRate(r.baseline)} = ${r.ratio.toFixed(2)}x`,
    );
  }
}

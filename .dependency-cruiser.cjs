/**
 * Layer rules (docs/ARCHITECTURE.md). An arrow points from a layer to the layers that may import it:
 *   errors → util → codec → identity → policy → dag → wal → store → kernel → rpc → mp → jitna → governance → sdk → dashboard → daemon → cli → bin
 * Nothing imports "upwards" and there are no cycles.
 */
const layers = [
  'errors',
  'util',
  'codec',
  'identity',
  'policy',
  'dag',
  'wal',
  'store',
  'kernel',
  'rpc',
  'mp',
  'jitna',
  'governance',
  'sdk',
  'dashboard',
  'daemon',
  'cli',
  'bin',
];
const upward = [];
for (let i = 0; i < layers.length; i++) {
  const higher = layers.slice(i + 1);
  if (higher.length === 0) continue;
  upward.push({
    name: `no-upward-from-${layers[i]}`,
    comment: `src/${layers[i]} may not import a higher layer (${higher.join(', ')})`,
    severity: 'error',
    from: { path: `^src/${layers[i]}/` },
    to: { path: `^src/(${higher.join('|')})/` },
  });
}
// each broker's client library is imported only in its adapter folder (and its benchmark baseline)
const adapters = [
  ['nats', '@nats-io/'],
  ['redis', '(redis|@redis)/'],
  ['mqtt', '(mqtt|mqtt-packet)/'],
].flatMap(([name, lib]) => [
  {
    name: `${name}-only-in-its-adapter`,
    comment: `the ${name} client library is imported only in src/mp/transports/${name}/`,
    severity: 'error',
    from: { pathNot: `^(src/mp/transports/${name}/|bench/${name}[.]bench[.]ts$)` },
    to: { path: `node_modules/${lib}` },
  },
  {
    // a static import would load it in every process that loads the plane (every jit command)
    name: `${name}-loaded-on-first-use`,
    comment: `the adapter loads the ${name} client library with import() (load.ts); elsewhere only its types`,
    severity: 'error',
    from: { path: `^src/mp/transports/${name}/` },
    to: {
      path: `node_modules/${lib}`,
      dependencyTypesNot: ['type-only', 'type-import', 'dynamic-import'],
    },
  },
]);
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'src-not-to-test-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    ...upward,
    ...adapters,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
      conditionNames: ['import', 'node', 'default'],
      exportsFields: ['exports'],
    },
  },
};

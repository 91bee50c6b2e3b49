/**
 * Layer rules (docs/ARCHITECTURE.md). An arrow points from a layer to the layers that may import it:
 *   errors → util → codec → identity → dag → wal → store → kernel → rpc → mp → jitna → sdk → cli / daemon / dashboard
 * Nothing imports "upwards" and there are no cycles.
 */
const layers = [
  'errors',
  'util',
  'codec',
  'identity',
  'dag',
  'wal',
  'store',
  'kernel',
  'rpc',
  'mp',
  'jitna',
  'sdk',
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
    {
      name: 'nats-only-in-its-adapter',
      comment:
        'the NATS client libraries are imported only in src/mp/transports/nats/ (and by the raw-client baseline of its benchmark)',
      severity: 'error',
      from: { pathNot: '^(src/mp/transports/nats/|bench/nats[.]bench[.]ts$)' },
      to: { path: 'node_modules/@nats-io/' },
    },
    {
      name: 'redis-only-in-its-adapter',
      comment:
        'the Redis client library is imported only in src/mp/transports/redis/ (and by its benchmark baseline)',
      severity: 'error',
      from: { pathNot: '^(src/mp/transports/redis/|bench/redis[.]bench[.]ts$)' },
      to: { path: 'node_modules/(redis|@redis)/' },
    },
    {
      name: 'mqtt-only-in-its-adapter',
      comment: 'the MQTT client library is imported only in src/mp/transports/mqtt/',
      severity: 'error',
      from: { pathNot: '^src/mp/transports/mqtt/' },
      to: { path: 'node_modules/(mqtt|mqtt-packet)/' },
    },
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

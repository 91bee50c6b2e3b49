/**
 * The NATS client libraries, imported on first use: a process that never opens a NATS plane
 * (every `jit` command, a `jitd` on another plane) does not pay for loading them.
 */
export interface NatsLib {
  readonly core: typeof import('@nats-io/transport-node');
  readonly js: typeof import('@nats-io/jetstream');
}

let loading: Promise<NatsLib> | undefined;

export function loadNats(): Promise<NatsLib> {
  loading ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]).then(
    ([core, js]) => ({ core, js }),
  );
  return loading;
}

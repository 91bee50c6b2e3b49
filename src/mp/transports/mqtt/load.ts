/**
 * The MQTT client library, imported on first use: a process that never opens an MQTT plane
 * (every `jit` command, a `jitd` on another plane) does not pay for loading it.
 */
export type MqttLib = typeof import('mqtt');

let loading: Promise<MqttLib> | undefined;

export function loadMqtt(): Promise<MqttLib> {
  loading ??= import('mqtt');
  return loading;
}

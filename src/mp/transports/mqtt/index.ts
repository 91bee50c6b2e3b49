/** The MQTT transport: the only folder that imports the MQTT client library. */
export { type MqttOptions, MqttTransport } from './mqtt.js';

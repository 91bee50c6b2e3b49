/** The NATS JetStream transport: the only folder that imports the NATS client libraries. */
export { type NatsOptions, NatsTransport } from './nats.js';

/** The Redis Streams transport: the only folder that imports the Redis client library. */
export { type RedisOptions, RedisTransport } from './redis.js';

export * from './client.js';
export * from './nats.js';
export * from './process.js';
export * from './tokens.js';
export * from './util.js';

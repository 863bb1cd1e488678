export * from './client.js';
export * from './nats.js';
export * from './process.js';
export * from './tokens.js';
export * from './util.js';
export * from './service-tokens.js';
export * from './otlp.js';
export * from './sse.js';

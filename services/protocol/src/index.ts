export * from './close-codes.js';
export * from './envelope.js';
export * from './errors.js';
export * from './rooms.js';
export * from './subjects.js';

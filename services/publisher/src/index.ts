export { loadConfig, describeConfig, ConfigError, type PublisherConfig, type RateSpec } from './config.js';
export { buildPublisher, startPublisher, type Publisher, type PublisherDeps, type Ports } from './publisher.js';
export { ensureStream, desiredStreamConfig, streamOptions, StreamConfigError, type StreamOptions, type EnsureStreamInput, type EnsureResult } from './stream.js';
export { PROBLEMS, ProblemError, type ProblemCode, type ProblemBody } from './errors.js';
export { SCOPES, createVerifier, type ServicePrincipal } from './auth.js';
export { startTracing, type Tracing } from './tracing.js';
export { newId } from './ids.js';
export { NatsBus, natsConnectOptions } from './bus/nats.js';
export { UnavailableError, type PublishBus, type PublishRequest, type Stored } from './bus/bus.js';

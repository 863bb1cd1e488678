export { loadStandaloneConfig, splitEnv, withDefaults, PUBLISHER_OVERRIDES, StandaloneConfigError, type StandaloneConfig } from './config.js';
export { MemoryHistory, MemoryPublishBus, type RingOptions, type History } from './history.js';
export { startStandalone, type Standalone } from './standalone.js';
export { devTokens } from './tokens.js';

export interface Tracing {
  shutdown(): Promise<void>;
}

/** True when the standard OTLP endpoint variables ask for traces. */
export function tracingEnabled(env: Record<string, string | undefined>): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Start the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. The
 * exporter, protocol (http/json, http/protobuf, grpc) and batching come from the
 * standard OTEL_* variables. Call before building the service; returns undefined
 * (tracing off, zero cost) otherwise.
 */
export async function startTracing(env: Record<string, string | undefined>, serviceName: string): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return undefined;
  // Loaded only when enabled: the SDK is large and costs start-up time and memory.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? serviceName, instrumentations: [], resourceDetectors: [] });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

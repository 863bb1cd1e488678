import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths redacted from every log line: tokens and credentials never reach the log. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'ticket',
  '*.ticket',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

export function createLogger(level: string, service: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export interface SecurityEvent {
  /** What class of event: auth_failed, origin_rejected, rate_limited, ... (bounded set; also a metric label). */
  readonly kind: string;
  /** Detail for operators; never sent to clients. */
  readonly reason: string;
  readonly ip?: string | undefined;
  readonly tenant?: string | undefined;
  readonly sub?: string | undefined;
  readonly conn?: string | undefined;
  readonly transport?: string | undefined;
}

/** One structured security event: `event: "security"` plus kind/reason/ip/tenant/sub. */
export function logSecurity(log: Logger, e: SecurityEvent): void {
  log.warn({ event: 'security', ...e }, `security: ${e.kind}`);
}

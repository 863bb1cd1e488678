import sanitizeHtml from 'sanitize-html';
import type { PublisherConfig } from './config.js';
import { ProblemError } from './errors.js';

export interface Sanitized {
  /** A fresh object (null prototype) with every string value and key cleaned. */
  readonly data: Record<string, unknown>;
  /** How many strings (values and keys) were changed. */
  readonly changed: number;
  /** Serialised size in bytes. */
  readonly bytes: number;
}

export type DataSanitizer = (data: Record<string, unknown>, pointer?: string) => Sanitized;

/**
 * Recursive sanitiser for `data`: bounds depth and key count before doing any work,
 * trims every string (values and keys) and passes it through sanitize-html with the
 * configured tag allow-list (none by default). Output strings are HTML-safe text:
 * tags removed, `<`, `>` and `&` escaped as entities.
 */
export function createSanitizer(
  sanitize: PublisherConfig['sanitize'],
  limits: Pick<PublisherConfig['limits'], 'dataMaxDepth' | 'dataMaxKeys' | 'dataMaxBytes'>,
): DataSanitizer {
  const options: sanitizeHtml.IOptions = {
    allowedTags: [...sanitize.allowedTags],
    allowedAttributes: Object.fromEntries(Object.entries(sanitize.allowedAttributes).map(([k, v]) => [k, [...v]])),
    allowedSchemes: ['http', 'https', 'mailto'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
  };
  const clean = (s: string): string => {
    const t = s.trim();
    // Fast path: nothing sanitize-html could change.
    if (!/[<>&]/.test(t)) return t;
    return sanitizeHtml(t, options).trim();
  };

  return (data, pointer = '/data') => {
    let keys = 0;
    let changed = 0;
    const walk = (v: unknown, depth: number, at: string): unknown => {
      if (typeof v === 'string') {
        const c = clean(v);
        if (c !== v) changed++;
        return c;
      }
      if (v === null || typeof v !== 'object') return v;
      if (depth >= limits.dataMaxDepth) throw new ProblemError('data_too_deep', { pointer: at });
      if (Array.isArray(v)) return v.map((x, i) => walk(x, depth + 1, `${at}/${i}`));
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (++keys > limits.dataMaxKeys) throw new ProblemError('data_too_many_keys', { pointer: at });
        const ck = clean(k);
        if (ck !== k) changed++;
        if (ck.length === 0 || Object.prototype.hasOwnProperty.call(out, ck)) throw new ProblemError('invalid_data_key', { pointer: at });
        out[ck] = walk(x, depth + 1, `${at}/${escapePointer(ck)}`);
      }
      return out;
    };
    const cleaned = walk(data, 0, pointer) as Record<string, unknown>;
    const bytes = Buffer.byteLength(JSON.stringify(cleaned));
    if (bytes > limits.dataMaxBytes) throw new ProblemError('data_too_large', { pointer });
    return { data: cleaned, changed, bytes };
  };
}

function escapePointer(k: string): string {
  return k.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** A small client for the Prometheus HTTP API (what Grafana calls). */

export interface Series {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  value?: [number, string];
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

export class Prometheus {
  constructor(readonly url: string) {}

  private async get<T>(path: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  async query(expr: string): Promise<Series[]> {
    return (await this.get<{ result: Series[] }>('/api/v1/query', { query: expr })).result;
  }

  async queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<Series[]> {
    const d = await this.get<{ result: Series[] }>('/api/v1/query_range', {
      query: expr,
      start: String(startS),
      end: String(endS),
      step: String(stepS),
    });
    return d.result;
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    return this.get<string[]>(`/api/v1/label/${label}/values`, { 'match[]': match });
  }

  async metricNames(): Promise<string[]> {
    return this.get<string[]>('/api/v1/label/__name__/values', {});
  }

  async targets(): Promise<Array<{ health: string; labels: Record<string, string>; lastError: string }>> {
    return (await this.get<{ activeTargets: Array<{ health: string; labels: Record<string, string>; lastError: string }> }>('/api/v1/targets', { state: 'active' })).activeTargets;
  }

  async alerts(): Promise<Array<{ state: string; labels: Record<string, string>; value: string }>> {
    return (await this.get<{ alerts: Array<{ state: string; labels: Record<string, string>; value: string }> }>('/api/v1/alerts', {})).alerts;
  }
}

/** Values of a range or instant result that are real numbers (not NaN, not ±Inf). */
export function finiteValues(series: Series[]): number[] {
  const out: number[] = [];
  for (const s of series) {
    for (const [, v] of s.values ?? (s.value ? [s.value] : [])) {
      const n = Number(v);
      if (Number.isFinite(n)) out.push(n);
    }
  }
  return out;
}

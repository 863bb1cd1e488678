import { recorded } from './state.js';

class Metric {
  constructor(readonly name: string) {}
  add(value: number | boolean, tags?: Record<string, string>): void {
    const list = recorded.samples.get(this.name) ?? [];
    list.push({ value: Number(value), tags });
    recorded.samples.set(this.name, list);
  }
}
export class Counter extends Metric {}
export class Trend extends Metric {}
export class Rate extends Metric {}
export class Gauge extends Metric {}

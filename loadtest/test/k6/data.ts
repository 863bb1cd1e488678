export class SharedArray<T> {
  constructor(_name: string, fn: () => T[]) {
    return fn() as unknown as SharedArray<T>;
  }
}

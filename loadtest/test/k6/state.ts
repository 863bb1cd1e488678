// Just enough of the k6 runtime to run the scripts' iteration functions in Node against a real edge
// and publisher: what they record (checks, metric samples) lands here for the test to read.
// Kept on globalThis: the test re-imports the scripts (and so these modules) with vi.resetModules().
function fresh() {
  return {
    checks: [] as { name: string; ok: boolean }[],
    samples: new Map<string, { value: number; tags: Record<string, string> | undefined }[]>(),
    openSockets: 0,
    exec: { vu: { idInTest: 1, iterationInScenario: 0 }, scenario: { startTime: Date.now(), iterationInTest: 0 } },
  };
}
const g = globalThis as { __heraldK6Shim?: ReturnType<typeof fresh> };
export const recorded = (g.__heraldK6Shim ??= fresh());

export function samples(metric: string): number[] {
  return (recorded.samples.get(metric) ?? []).map((s) => s.value);
}

export function reset(): void {
  recorded.checks.length = 0;
  recorded.samples.clear();
}

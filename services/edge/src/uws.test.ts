import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import uWS from 'uWebSockets.js';

/**
 * The uWS package silently falls back to a slow JavaScript shim when its native
 * binary does not match the Node ABI. This fails loudly instead.
 */
describe('uWebSockets.js', () => {
  it('loads the native binary for this Node ABI, not the JS fallback', () => {
    const require = createRequire(import.meta.url);
    const pkgDir = require.resolve('uWebSockets.js/package.json').replace(/package\.json$/, '');
    const expected = `${pkgDir}binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    const loadedNative = Object.keys(require.cache).some((k) => k.endsWith('.node') && k.includes('uws_'));
    expect(require.cache[require.resolve(expected)] ?? loadedNative, `native ${expected} not loaded`).toBeTruthy();
    // Native functions stringify as [native code]; the fallback's are JavaScript.
    expect(Function.prototype.toString.call(uWS.App)).toContain('[native code]');
    expect(typeof uWS.us_listen_socket_close).toBe('function');
  });
});

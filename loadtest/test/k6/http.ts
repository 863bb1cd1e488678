// k6's http.post is synchronous; here a child process does the request and the caller waits.
import { execFileSync } from 'node:child_process';

const FETCH = `
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const { url, body, headers } = JSON.parse(input);
  const res = await fetch(url, { method: 'POST', body, headers });
  process.stdout.write(JSON.stringify({ status: res.status, body: await res.text() }));
});`;

export default {
  post(url: string, body: string, params: { headers?: Record<string, string> } = {}) {
    const out = execFileSync(process.execPath, ['-e', FETCH], { input: JSON.stringify({ url, body, headers: params.headers ?? {} }) });
    const { status, body: text } = JSON.parse(out.toString()) as { status: number; body: string };
    return { status, body: text, json: () => JSON.parse(text) as unknown };
  },
};

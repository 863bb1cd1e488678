// The demo page: plain TypeScript and the SDK, bundled by the edge with esbuild.
import { HeraldClient, type NotificationEnvelope } from '@herald/client';

interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly label: string;
  readonly rooms: readonly string[];
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $<HTMLDivElement>('status');
const gapEl = $<HTMLDivElement>('gap');
const listEl = $<HTMLOListElement>('notifications');
const countEl = $<HTMLSpanElement>('count');
const whoEl = $<HTMLParagraphElement>('who');
const tenantEl = $<HTMLSelectElement>('tenant');
const roomEl = $<HTMLSelectElement>('room');
const sentEl = $<HTMLOutputElement>('sent');

let users: DemoUser[] = [];
let client: HeraldClient | undefined;
let current: DemoUser | undefined;
let count = 0;

function setStatus(state: string, text: string): void {
  statusEl.className = `pill ${state}`;
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function el(tag: string, cls: string, text: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  e.textContent = text; // never innerHTML: notification data is untrusted
  return e;
}

function show(n: NotificationEnvelope): void {
  const latency = Math.max(0, Date.now() - n.ts);
  const li = document.createElement('li');
  li.dataset.room = n.room;
  li.dataset.event = n.event;
  if (n.seq !== undefined) li.dataset.seq = String(n.seq);
  li.append(
    el('span', 'event', n.event),
    el('span', 'meta', `seq ${n.seq ?? '–'} · ${latency} ms`),
    el('span', 'room', n.room),
    el('span', 'meta', new Date(n.ts).toLocaleTimeString()),
    el('span', 'data', JSON.stringify(n.data)),
  );
  listEl.prepend(li);
  while (listEl.children.length > 200) listEl.lastElementChild?.remove();
  countEl.textContent = String(++count);
}

function note(text: string): void {
  const li = el('li', 'system', text);
  listEl.prepend(li);
}

function cursorKey(u: DemoUser): string {
  return `herald-demo-cursor:${u.tenant}:${u.id}`;
}

async function token(user: DemoUser): Promise<string> {
  const r = await fetch('/demo/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: user.id }) });
  if (!r.ok) throw new Error(`token: HTTP ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

function signIn(user: DemoUser): void {
  client?.close();
  current = user;
  count = 0;
  listEl.replaceChildren();
  countEl.textContent = '0';
  gapEl.hidden = true;
  for (const b of document.querySelectorAll<HTMLButtonElement>('#users button')) b.setAttribute('aria-pressed', String(b.dataset.user === user.id));
  whoEl.textContent = `${user.name} (${user.label} of ${user.tenant}) receives user:${user.id}${user.label !== 'member' ? ', tenant' : ''}${user.label === 'super admin' ? ', global' : ''}.`;
  tenantEl.value = user.tenant;
  fillRooms();
  roomEl.value = `user:${user.id}`;
  const saved = sessionStorage.getItem(cursorKey(user));
  const c = new HeraldClient({
    url: location.origin,
    getToken: () => token(user),
    resume: saved ? Number(saved) : undefined,
    rooms: user.rooms.map((r) => `room:${r}`),
    // ?transport=sse shows the fallback path (one-time ticket, fetch streaming).
    ...(new URLSearchParams(location.search).get('transport') === 'sse' ? { transports: ['sse'] as const } : {}),
  });
  client = c;
  setStatus('connecting', 'connecting…');
  c.on('connected', (e) => {
    setStatus('connected', `connected as ${user.name} · ${e.transport.toUpperCase()}`);
    note(`connected over ${e.transport} (${e.conn})${e.resumedFrom !== undefined ? `, resumed after seq ${e.resumedFrom}` : ''}`);
  });
  c.on('disconnected', (e) => {
    if (c !== client) return;
    const why = `${e.code}${e.name ? ` ${e.name}` : ''}`;
    if (e.willRetry) setStatus('reconnecting', `reconnecting (${why}) in ${e.retryInMs ?? 0} ms`);
    else setStatus('closed', `disconnected (${why})`);
  });
  c.on('notification', (n) => {
    show(n);
    if (n.seq !== undefined) sessionStorage.setItem(cursorKey(user), String(n.seq));
  });
  c.on('gap', () => {
    gapEl.hidden = false;
  });
  c.on('error', (e) => note(`error ${e.code}: ${e.message}`));
  (window as unknown as { herald: unknown }).herald = { client: c, user };
}

function fillRooms(): void {
  const tenant = tenantEl.value;
  const rooms = [...users.filter((u) => u.tenant === tenant).map((u) => `user:${u.id}`), 'tenant', 'global', 'room:ops'];
  const keep = roomEl.value;
  roomEl.replaceChildren(...rooms.map((r) => new Option(r, r)));
  roomEl.value = rooms.includes(keep) ? keep : current && current.tenant === tenant ? `user:${current.id}` : rooms[0]!;
}

async function send(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const f = new FormData(ev.target as HTMLFormElement);
  sentEl.textContent = 'sending…';
  const r = await fetch('/demo/send', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant: f.get('tenant'), room: f.get('room'), event: f.get('event'), data: { text: f.get('text') } }),
  });
  const body = (await r.json().catch(() => ({}))) as { id?: string; seq?: number; title?: string; error?: string };
  sentEl.textContent = r.ok ? `stored as seq ${body.seq}` : `HTTP ${r.status}: ${body.title ?? body.error ?? 'failed'}`;
  sentEl.dataset.status = String(r.status);
}

async function main(): Promise<void> {
  const r = await fetch('/demo/users');
  const body = (await r.json()) as { users: DemoUser[]; signing: boolean };
  users = body.users;
  const box = $<HTMLDivElement>('users');
  for (const u of users) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.user = u.id;
    b.append(document.createTextNode(u.name), el('small', '', `${u.label} · ${u.tenant}`));
    b.addEventListener('click', () => signIn(u));
    box.append(b);
  }
  for (const t of [...new Set(users.map((u) => u.tenant))]) tenantEl.append(new Option(t, t));
  tenantEl.addEventListener('change', fillRooms);
  fillRooms();
  $<HTMLFormElement>('send').addEventListener('submit', (e) => void send(e));
  if (!body.signing) whoEl.textContent = 'Demo sign-in needs the edge to run with HERALD_JWT_SECRET (dev only).';
  const wanted = new URLSearchParams(location.search).get('user');
  const u = users.find((x) => x.id === wanted);
  if (u) signIn(u);
}

void main();

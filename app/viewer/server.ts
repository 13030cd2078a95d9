/**
 * The `halfmoon view` server: node:http bound to 127.0.0.1 only, serving the viewer page, the
 * model, records on demand (`/records?from=a&to=b`, at most RECORDS_PER_REQUEST_MAX, decoded from
 * the loaded trace's compact pages: states whole), the trace file itself (`/trace`, with byte
 * range requests) and a Perfetto export. It answers GET and HEAD for those paths and nothing
 * else, and refuses requests whose Host header is not the loopback address it listens on (a web
 * page elsewhere cannot reach it through DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream, statSync } from 'node:fs';
import { InputError } from '../../src/core/assert.ts';
import type { LoadedTrace } from './load.ts';
import { renderPage } from './page.ts';
import { toPerfetto } from './perfetto.ts';

export const HOST = '127.0.0.1';
export const RECORDS_PER_REQUEST_MAX = 4096;

export interface ViewerServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Resolves when the server stops (closed, or the process was asked to stop). */
  readonly closed: Promise<void>;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data: blob:",
};

export async function startViewerServer(trace: LoadedTrace, port = 0): Promise<ViewerServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port: expected 0..65535, got ${port}`);
  const title = trace.model.meta.file;
  const page = await renderPage(title, null);
  let modelJson: string | null = null;
  let perfetto: string | null = null;
  const routes: Record<string, (q: URLSearchParams) => { type: string; body: string; name?: string; status?: number }> = {
    '/': () => ({ type: 'text/html; charset=utf-8', body: page }),
    '/model.json': () => ({ type: 'application/json', body: (modelJson ??= JSON.stringify(trace.model)) }),
    '/records': (q) => {
      const a = Number(q.get('from') ?? '');
      const b = Number(q.get('to') ?? '');
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < a || b - a > RECORDS_PER_REQUEST_MAX) {
        return { type: 'text/plain', body: `bad range: from and to must be integers, 0 <= from <= to, at most ${RECORDS_PER_REQUEST_MAX} records\n`, status: 400 };
      }
      return { type: 'application/json', body: JSON.stringify(trace.records(a, b)) };
    },
    '/perfetto.json': () => ({ type: 'application/json', body: (perfetto ??= JSON.stringify(toPerfetto(trace.model))), name: `${title.replace(/\.jsonl?(\.gz)?$/, '')}.perfetto.json` }),
  };
  let boundPort = port;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${boundPort}` && host !== `localhost:${boundPort}`) return send(res, 421, 'text/plain', 'misdirected request: this viewer answers only on its loopback address\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
    const [path, query] = (req.url ?? '/').split('?') as [string, string | undefined];
    if (path === '/trace') return sendFile(res, trace.path, req.headers.range, req.method === 'HEAD', title);
    const route = routes[path];
    if (!route) return send(res, 404, 'text/plain', 'not found\n');
    const r = route(new URLSearchParams(query ?? ''));
    const extra: Record<string, string> = r.name ? { 'content-disposition': `attachment; filename="${r.name.replace(/[^\w.-]/g, '_')}"` } : {};
    send(res, r.status ?? 200, r.type, req.method === 'HEAD' ? null : r.body, extra, Buffer.byteLength(r.body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new InputError(`--port ${port}: address ${HOST}:${port} is already in use`));
      else if (e.code === 'EACCES') reject(new InputError(`--port ${port}: not allowed to listen on ${HOST}:${port}`));
      else reject(e);
    });
    server.listen(port, HOST, () => resolve());
  });
  boundPort = (server.address() as AddressInfo).port;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  server.on('close', () => resolveClosed());
  return {
    url: `http://${HOST}:${boundPort}/`,
    port: boundPort,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The trace file as it is on disk, whole or one byte range (`Range: bytes=a-b`). */
function sendFile(res: ServerResponse, path: string, range: string | undefined, head: boolean, title: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return send(res, 404, 'text/plain', 'the trace file is gone\n');
  }
  const extra = { 'accept-ranges': 'bytes', 'content-disposition': `attachment; filename="${title.replace(/[^\w.-]/g, '_')}"` };
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range !== undefined) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === '' && m[2] === '')) return send(res, 416, 'text/plain', 'unsupported range\n', { 'content-range': `bytes */${size}` });
    if (m[1] === '') start = Math.max(0, size - Number(m[2]));
    else {
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(size - 1, Number(m[2]));
    }
    if (start > end || start >= size) return send(res, 416, 'text/plain', 'range not satisfiable\n', { 'content-range': `bytes */${size}` });
    status = 206;
    Object.assign(extra, { 'content-range': `bytes ${start}-${end}/${size}` });
  }
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(end - start + 1), ...SECURITY_HEADERS, ...extra });
  if (head || size === 0) return void res.end();
  createReadStream(path, { start, end }).pipe(res);
}

function send(res: ServerResponse, status: number, type: string, body: string | null, extra: Record<string, string> = {}, length?: number): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(length ?? Buffer.byteLength(body ?? '')), ...SECURITY_HEADERS, ...extra });
  res.end(body ?? undefined);
}

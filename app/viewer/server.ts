/**
 * The `halfmoon view` server: node:http bound to 127.0.0.1 only, serving the viewer page, the
 * model and the trace text it loads, and a Perfetto export. It answers GET and HEAD for those four
 * paths and nothing else, and refuses requests whose Host header is not the loopback address it
 * listens on (a web page elsewhere cannot reach it through DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../../src/core/assert.ts';
import type { LoadedTrace } from './load.ts';
import { renderPage } from './page.ts';
import { toPerfetto } from './perfetto.ts';

export const HOST = '127.0.0.1';

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
  const routes: Record<string, () => { type: string; body: string; name?: string }> = {
    '/': () => ({ type: 'text/html; charset=utf-8', body: page }),
    '/model.json': () => ({ type: 'application/json', body: (modelJson ??= JSON.stringify(trace.model)) }),
    '/trace.jsonl': () => ({ type: 'application/x-ndjson; charset=utf-8', body: trace.text }),
    '/perfetto.json': () => ({ type: 'application/json', body: (perfetto ??= JSON.stringify(toPerfetto(trace.model))), name: `${title.replace(/\.jsonl?$/, '')}.perfetto.json` }),
  };
  let boundPort = port;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${boundPort}` && host !== `localhost:${boundPort}`) return send(res, 421, 'text/plain', 'misdirected request: this viewer answers only on its loopback address\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return send(res, 404, 'text/plain', 'not found\n');
    const r = route();
    const extra: Record<string, string> = r.name ? { 'content-disposition': `attachment; filename="${r.name.replace(/[^\w.-]/g, '_')}"` } : {};
    send(res, 200, r.type, req.method === 'HEAD' ? null : r.body, extra, Buffer.byteLength(r.body));
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

function send(res: ServerResponse, status: number, type: string, body: string | null, extra: Record<string, string> = {}, length?: number): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(length ?? Buffer.byteLength(body ?? '')), ...SECURITY_HEADERS, ...extra });
  res.end(body ?? undefined);
}

/**
 * `halfmoon view` and `halfmoon export` through the CLI entry point: the self-contained HTML file
 * (embedded model and trace that survive `</script>` inside a trace, exactly three script
 * elements), the loopback server (its four routes, 404 and 405 for anything else, 421 for a
 * foreign Host header, bound to 127.0.0.1 only), the Perfetto file, and bad input answered with
 * one line and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import type { Io } from '../../app/cli/commands/types.ts';
import { loadTrace } from '../../app/viewer/load.ts';
import { escapeJsonForHtml, escapeScript } from '../../app/viewer/page.ts';
import { startViewerServer, type ViewerServer } from '../../app/viewer/server.ts';
import { validateTraceEvents } from '../../app/viewer/trace-event-format.ts';
import { CRASH_FAILURE, records, simTrace, tmp, writeRecords } from './fixtures.ts';

function io(): Io & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { outs, errs, out: (s) => outs.push(s), err: (s) => errs.push(s), progress: null };
}

/** A trace whose client request body tries to close the script element and run its own. */
function hostileTrace(): string {
  const { path } = simTrace('register-smoke', 1);
  const evil = '</script><script>window.pwned=1</script><!-- <SCRIPT>';
  const recs = records(path).map((r) => {
    if (r.type === 'step' && (r.input as { type?: string } | undefined)?.type === 'client') return { ...r, input: { ...(r.input as object), body: { op: 'write', value: evil } } };
    return r;
  });
  return writeRecords('hostile.jsonl', recs);
}

function get(url: string, host?: string, method = 'GET', extra: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: { ...(host ? { host } : {}), ...extra } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('halfmoon view --out', () => {
  it('writes one self-contained page with the model and the trace embedded safely', async () => {
    const trace = hostileTrace();
    const out = join(tmp, 'hostile.html');
    const o = io();
    expect(await main(['view', trace, '--out', out], o)).toBe(0);
    expect(o.errs.join('\n')).toMatch(/wrote .*hostile\.html/);
    const html = readFileSync(out, 'utf8');
    // Exactly the model, the index, the blobs, the trace and the bundle: nothing in the trace
    // closed an element early.
    expect(html.match(/<script/gi)).toHaveLength(5);
    expect(html.match(/<\/script>/gi)).toHaveLength(5);
    expect(html).not.toContain('<!--');
    const model = /<script id="hm-model" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const text = /<script id="hm-trace" type="application\/x-ndjson">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const loaded = await loadTrace(trace);
    expect(JSON.parse(model)).toEqual(JSON.parse(JSON.stringify(loaded.model)));
    const lines = text.split('\n');
    const compact = loaded.compactLines(0, loaded.index.records);
    expect(lines).toHaveLength(compact.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(compact.map((l) => JSON.parse(l)));
    expect(text).toContain('\\u003c/script>');
  });

  it('escapes what could end a script element, keeping the same meaning', async () => {
    expect(escapeJsonForHtml(JSON.stringify({ a: '</script>' }))).toBe('{"a":"\\u003c/script>"}');
    expect(JSON.parse(escapeJsonForHtml(JSON.stringify({ a: '<b></SCRIPT>' })))).toEqual({ a: '<b></SCRIPT>' });
    const js = 'var s = "</script>"; var r = /<!--/u; var t = `</SCRIPT>`;';
    const safe = escapeScript(js);
    expect(safe).not.toMatch(/<\/script/i);
    expect(safe).not.toContain('<!--');
    const run = (src: string) => new Function(`${src}; return [s, r.test('<!--'), t];`)() as unknown[];
    expect(run(safe)).toEqual(run(js));
  });
});

describe('halfmoon view server', () => {
  let server: ViewerServer;
  let tracePath: string;
  beforeAll(async () => {
    tracePath = simTrace(CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant).path;
    server = await startViewerServer(await loadTrace(tracePath), 0);
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 and serves the page, the model, the trace and a Perfetto export', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(page.body).toContain('<script>');
    expect(page.body).not.toContain('id="hm-model"'); // the served page fetches its data
    const model = await get(server.url + 'model.json');
    expect(JSON.parse(model.body).violations[0].invariant).toBe('replica-timestamp-monotonic');
    // Records on demand, expanded (states whole), equal to what a streaming reader sees.
    const all = records(tracePath);
    const recs = await get(server.url + 'records?from=10&to=60');
    expect(JSON.parse(recs.body)).toEqual(JSON.parse(JSON.stringify(all.slice(10, 60))));
    expect((await get(server.url + 'records?from=5&to=1')).status).toBe(400);
    expect((await get(server.url + 'records?from=0&to=100000')).status).toBe(400);
    // The file itself, and one byte range of it.
    const file = readFileSync(tracePath, 'utf8');
    expect((await get(server.url + 'trace')).body).toBe(file);
    const part = await get(server.url + 'trace', undefined, 'GET', { range: 'bytes=10-29' });
    expect(part.status).toBe(206);
    expect(part.body).toBe(file.slice(10, 30));
    const perfetto = await get(server.url + 'perfetto.json');
    expect(validateTraceEvents(JSON.parse(perfetto.body))).toEqual([]);
    const head = await get(server.url + 'model.json', undefined, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('refuses other paths, methods and hosts', async () => {
    expect((await get(server.url + 'etc/passwd')).status).toBe(404);
    expect((await get(server.url + '../' + tracePath)).status).toBe(404);
    expect((await get(server.url, undefined, 'POST')).status).toBe(405);
    expect((await get(server.url, 'evil.example:80')).status).toBe(421);
    expect((await get(server.url, `localhost:${server.port}`)).status).toBe(200);
  });

  it('prints its address and stops when the server closes', async () => {
    const o = io();
    const done = main(['view', tracePath, '--port', '0'], o);
    // The trace is read through the async streaming loader before the server listens, so wait on
    // the address line itself (bounded: 30 s), not on a fixed number of event-loop turns.
    for (let i = 0; i < 3000 && o.outs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(o.outs[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get(o.outs[0]!)).status).toBe(200);
    process.emit('SIGINT');
    expect(await done).toBe(0);
  });

  it('names a port that is taken', async () => {
    const o = io();
    expect(await main(['view', tracePath, '--port', String(server.port)], o)).toBe(2);
    expect(o.errs).toEqual([`halfmoon view: --port ${server.port}: address 127.0.0.1:${server.port} is already in use`]);
  });
});

describe('halfmoon export --perfetto', () => {
  it('writes a valid trace-event file, or prints it', async () => {
    const { path } = simTrace('register-chaos', 3);
    const out = join(tmp, 'chaos.perfetto.json');
    const o = io();
    expect(await main(['export', '--perfetto', path, '--out', out], o)).toBe(0);
    expect(validateTraceEvents(JSON.parse(readFileSync(out, 'utf8')))).toEqual([]);
    const p = io();
    expect(await main(['export', '--perfetto', path], p)).toBe(0);
    expect(JSON.parse(p.outs.join('\n'))).toEqual(JSON.parse(readFileSync(out, 'utf8')));
  });
});

describe('bad input: one line, exit code 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['no file', ['view'], /a trace file is required/],
    ['a missing file', ['view', join(tmp, 'nope.jsonl')], /cannot read trace file \(ENOENT\)/],
    ['a directory', ['view', tmp], /not a regular file/],
    ['not JSON', ['view', 'package.json'], /package\.json:1: not valid JSON/],
    ['not a trace', ['view', 'tsconfig.json'], /not valid JSON|not a halfmoon trace/],
    ['a bad port', ['view', 'x.jsonl', '--port', 'http'], /--port: expected a port number/],
    ['a port too large', ['view', 'x.jsonl', '--port', '70000'], /--port: expected a port number/],
    ['--out with --port', ['view', 'x.jsonl', '--port', '1', '--out', 'a.html'], /exclude each other/],
    ['an unknown flag', ['view', 'x.jsonl', '--opne'], /Unknown option/],
    ['export without a format', ['export', 'x.jsonl'], /choose an output format: --perfetto/],
    ['export to an unwritable place', ['export', '--perfetto', '__TRACE__', '--out', '/nonexistent-dir/x.json'], /--out \/nonexistent-dir\/x\.json: cannot write/],
  ];
  for (const [what, argv, re] of cases) {
    it(what, async () => {
      const o = io();
      const args = argv.map((a) => (a === '__TRACE__' ? simTrace('register-smoke', 1).path : a));
      expect(await main(args, o)).toBe(2);
      expect(o.errs).toHaveLength(1);
      expect(o.errs[0]).toMatch(re);
      expect(o.errs[0]).not.toMatch(/\n|at .*\.ts:\d+/);
    });
  }

  it('a trace from a newer format version', async () => {
    const path = writeRecords('v9.jsonl', [{ type: 'header', format: 'halfmoon-trace', version: 9 }]);
    const o = io();
    expect(await main(['view', path, '--out', join(tmp, 'v9.html')], o)).toBe(2);
    expect(o.errs[0]).toMatch(/trace version 9 is not supported/);
  });
});

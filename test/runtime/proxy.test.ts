/**
 * Methodology: the fault proxy against a plain echo server. In pass mode bytes go through
 * unchanged; in delay mode a round trip takes at least twice the delay and bytes keep their order
 * across a switch back to pass; reset closes open connections and refuses new ones; blackhole
 * swallows bytes silently and, on healing, resets the connections whose streams it cut. The
 * `cluster` command's bad input exits 2 with one line. Waits poll conditions with deadlines.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../src/runtime/real/proxy.ts';
import { main } from '../../app/cli/cli.ts';
import { until } from './helpers.ts';

let echo: net.Server;
let echoPort = 0;
beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

interface Conn {
  sock: net.Socket;
  got: () => string;
  closed: () => boolean;
}

async function connect(port: number): Promise<Conn> {
  const sock = net.connect({ host: '127.0.0.1', port });
  let buf = '';
  let closed = false;
  sock.on('data', (d) => (buf += d.toString()));
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, got: () => buf, closed: () => closed };
}

describe('FaultProxy', () => {
  it('passes, delays in order, resets, and blackholes then heals', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: echoPort });
    const addr = await proxy.start();
    try {
      const a = await connect(addr.port);
      a.sock.write('hello');
      await until(() => a.got() === 'hello', 'the echo through the proxy');

      proxy.setMode({ kind: 'delay', ms: 40 });
      const t0 = performance.now();
      a.sock.write('1');
      a.sock.write('2');
      await until(() => a.got() === 'hello12', 'delayed bytes');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(75); // two delayed hops: there and back
      a.sock.write('3');
      proxy.setMode({ kind: 'pass' });
      a.sock.write('4');
      await until(() => a.got() === 'hello1234', 'bytes in order across the switch back to pass');

      proxy.setMode({ kind: 'blackhole' });
      a.sock.write('lost');
      await until(() => proxy.counters.bytesDropped >= 4, 'the proxy to swallow bytes');
      expect(a.closed()).toBe(false);
      proxy.setMode({ kind: 'pass' });
      await until(() => a.closed(), 'the cut stream to be reset on healing');
      expect(a.got()).toBe('hello1234');

      const b = await connect(addr.port);
      proxy.setMode({ kind: 'reset' });
      await until(() => b.closed(), 'reset to close an open connection');
      const c = net.connect({ host: '127.0.0.1', port: addr.port });
      let cClosed = false;
      c.on('close', () => (cClosed = true)).on('error', () => undefined);
      await until(() => cClosed, 'reset to refuse a new connection');
      expect(proxy.counters.refused).toBeGreaterThan(0);
      proxy.setMode({ kind: 'pass' });
      const d = await connect(addr.port);
      d.sock.write('again');
      await until(() => d.got() === 'again', 'a new connection after healing');
      d.sock.destroy();
    } finally {
      await proxy.stop();
    }
  });
});

describe('halfmoon cluster: bad input exits 2 with one line', () => {
  const cases: [string[], RegExp][] = [
    [['cluster'], /expected a subcommand/],
    [['cluster', 'launch'], /expected a subcommand .* got 'launch'/],
    [['cluster', 'kill'], /kill: name the node/],
    [['cluster', 'status', 'r0'], /status: unexpected argument 'r0'/],
    [['cluster', 'up', '--config', '/no/such/file.yaml'], /--config: \/no\/such\/file\.yaml: no such file/],
  ];
  for (const [args, re] of cases) {
    it(args.join(' '), async () => {
      const err: string[] = [];
      const code = await main(args, { out: () => undefined, err: (s) => err.push(s), progress: null });
      expect(code).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(re);
    });
  }
});

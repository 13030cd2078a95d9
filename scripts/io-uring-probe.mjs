#!/usr/bin/env node
// Shows which file syscalls go through io_uring in this Node build (ecosystem.md §3).
//
//   node scripts/io-uring-probe.mjs              run the workload under strace twice, without and
//                                                with UV_USE_IO_URING=1, and print syscall counts
//   node scripts/io-uring-probe.mjs --workload   the workload alone (what strace traces)
//   node scripts/io-uring-probe.mjs --json       the comparison as JSON
//
// The workload uses the same calls as the real runtime's store and transport: 200 write+fsync
// pairs and 200 reads through fs/promises, one fdatasync, and a 200-message TCP echo on loopback.
// With io_uring in use, file syscalls (pwrite64, pread64, fsync, fdatasync) vanish from the
// process (a kernel SQPOLL thread performs them) and io_uring_setup/io_uring_enter appear; socket
// read/write calls remain in both runs, because libuv never sends sockets through io_uring.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SYSCALLS = ['io_uring_setup', 'io_uring_enter', 'fsync', 'fdatasync', 'pwrite64', 'pread64', 'write', 'read', 'epoll_ctl', 'epoll_wait', 'epoll_pwait'];

async function workload() {
  const dir = mkdtempSync(join(tmpdir(), 'hm-uring-'));
  try {
    const fh = await open(join(dir, 'probe.dat'), 'w+');
    const buf = Buffer.alloc(512, 0x61);
    for (let i = 0; i < 200; i++) {
      await fh.write(buf, 0, buf.length, i * buf.length);
      await fh.sync();
    }
    const rd = Buffer.alloc(512);
    for (let i = 0; i < 200; i++) await fh.read(rd, 0, rd.length, i * rd.length);
    await fh.datasync();
    await fh.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await new Promise((resolve, reject) => {
    const srv = net.createServer({ noDelay: true }, (s) => s.on('data', (d) => s.write(d)));
    srv.listen(0, '127.0.0.1', () => {
      const c = net.connect({ port: srv.address().port, host: '127.0.0.1', noDelay: true });
      let n = 0;
      c.on('connect', () => c.write('ping'));
      c.on('data', () => {
        if (++n === 200) {
          c.destroy();
          srv.close(resolve);
        } else c.write('ping');
      });
      c.on('error', reject);
    });
  });
}

/** Parses `strace -c` output into {syscall: calls}. */
function parseCounts(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (cols.length < 5 || !/^\d+\.\d+$/.test(cols[0])) continue;
    const name = cols[cols.length - 1];
    const calls = Number(cols[3]);
    if (Number.isInteger(calls)) out[name] = calls;
  }
  return out;
}

function traced(env) {
  const dir = mkdtempSync(join(tmpdir(), 'hm-strace-'));
  const file = join(dir, 'strace.txt');
  try {
    const r = spawnSync('strace', ['-f', '-c', '-o', file, '-e', `trace=${SYSCALLS.join(',')}`, process.execPath, fileURLToPath(import.meta.url), '--workload'], {
      env,
      encoding: 'utf8',
    });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`strace exited with ${r.status}: ${r.stderr.split('\n')[0]}`);
    return parseCounts(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--workload')) return workload();
  const base = { ...process.env };
  delete base.UV_USE_IO_URING;
  let off, on;
  try {
    off = traced(base);
    on = traced({ ...base, UV_USE_IO_URING: '1' });
  } catch (e) {
    if (e.code === 'ENOENT') {
      process.stderr.write('io-uring-probe: strace is not installed (apt-get install -y strace)\n');
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  const fileCalls = (c) => (c.pwrite64 ?? 0) + (c.pread64 ?? 0) + (c.fsync ?? 0) + (c.fdatasync ?? 0);
  const usesUring = (c) => (c.io_uring_setup ?? 0) > 0 && fileCalls(c) < fileCalls(off) / 10;
  const result = {
    node: process.version,
    uv: process.versions.uv,
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    unset: off,
    UV_USE_IO_URING_1: on,
    filesThroughIoUringWhenUnset: usesUring(off),
    filesThroughIoUringWithFlag: usesUring(on),
    socketsThroughIoUring: false,
  };
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const w = Math.max(...SYSCALLS.map((s) => s.length));
  process.stdout.write(`node ${result.node}, libuv ${result.uv}, kernel ${result.kernel}\n`);
  process.stdout.write(`${'syscall'.padEnd(w)}  ${'unset'.padStart(8)}  ${'UV_USE_IO_URING=1'.padStart(18)}\n`);
  for (const s of SYSCALLS) process.stdout.write(`${s.padEnd(w)}  ${String(off[s] ?? 0).padStart(8)}  ${String(on[s] ?? 0).padStart(18)}\n`);
  process.stdout.write(
    `\nfile operations through io_uring: unset ${result.filesThroughIoUringWhenUnset ? 'yes' : 'no'}, with UV_USE_IO_URING=1 ${result.filesThroughIoUringWithFlag ? 'yes' : 'no'}\n` +
      'sockets: epoll readiness with read/write in both runs (libuv never sends sockets through io_uring)\n',
  );
}

await main();

/**
 * Records this process's socket reads and writes on one clock shared by every process of the
 * machine (epoch ms, sub-ms: performance.timeOrigin + performance.now()), for bench/hop-wire.ts.
 * Each record: [at, 'r' | 'w', remote port, bytes, first line of the chunk (NATS: the protocol
 * verb and subject) or '' for PostgreSQL, and for a write the ms the write call took]. Load it with NODE_OPTIONS so a forked executor records
 * too:
 *
 *   NODE_OPTIONS="-r $PWD/bench/lib/socket-timeline.preload.cjs" SOCKET_TIMELINE_DIR=/tmp/tl node ...
 *
 * On exit each process writes $SOCKET_TIMELINE_DIR/<pid>.json: {pid, argv, events}.
 * `globalThis.__socketTimeline` is the live array (a driver clears it between runs).
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (node -r), loaded before any compiler hook */
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { Readable } = require('node:stream');
const events = [];
const origin = performance.timeOrigin;
const label = (port, chunk) => {
  if (port === '5432' || !chunk || typeof chunk === 'string') return typeof chunk === 'string' ? chunk.slice(0, 160) : '';
  // Every NATS protocol line of the chunk, verb and subject only (a chunk may hold several).
  const text = chunk.toString('latin1', 0, Math.min(chunk.length, 4096));
  return text
    .split('\r\n')
    .filter((line) => /^(H?PUB|H?MSG|\+OK|PING|PONG|SUB|UNSUB) /.test(line) || line === 'PING' || line === 'PONG')
    .map((line) => line.split(' ').slice(0, 2).join(' '))
    .join('|');
};
const original = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
  const port = String(this.remotePort ?? 'unix');
  let n = 0;
  let what = '';
  if (writev) {
    const parts = [];
    for (const c of data) {
      n += c.chunk?.length ?? 0;
      parts.push(label(port, c.chunk));
    }
    what = parts.filter(Boolean).join('|');
  } else {
    n = data?.length ?? 0;
    what = label(port, data);
  }
  const at = performance.now();
  const result = original.call(this, writev, data, encoding, cb);
  // The write's own time (the syscall, synchronous on this thread unless the kernel buffer is full).
  events.push([origin + at, 'w', port, n, what, performance.now() - at]);
  return result;
};
net.Socket.prototype.push = function (chunk, encoding) {
  if (chunk) events.push([origin + performance.now(), 'r', String(this.remotePort ?? 'unix'), chunk.length ?? 0, label(String(this.remotePort ?? 'unix'), chunk)]);
  return Readable.prototype.push.call(this, chunk, encoding);
};
globalThis.__socketTimeline = events;
const dir = process.env.SOCKET_TIMELINE_DIR;
if (dir) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, argv: process.argv.slice(1).join(' ').slice(-80), events }));
    } catch {
      /* best effort */
    }
  });
}

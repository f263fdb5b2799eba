/**
 * Counts this process's socket writes by remote port (each `_writeGeneric` is one write/writev
 * call into libuv: one syscall unless the kernel buffer is full). Load it in every process of a
 * bench with NODE_OPTIONS, e.g.
 *
 *   NODE_OPTIONS="-r $PWD/bench/lib/socket-writes.preload.cjs" SOCKET_WRITES_OUT=/tmp/w node -r @swc-node/register bench/hop-trace.ts 100 3
 *
 * On exit each process appends one JSON line to $SOCKET_WRITES_OUT: {pid, argv, cpuMs (user + system, whole
 * process), writes: {port: n}, bytes: {port: n}}.
 * `globalThis.__socketWrites()` reads the counts so far (to take differences around a run).
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (node -r), loaded before any compiler hook */
const net = require('node:net');
const fs = require('node:fs');
const writes = {};
const bytes = {};
const original = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
  const port = String(this.remotePort ?? 'unix');
  writes[port] = (writes[port] ?? 0) + 1;
  let n = 0;
  if (writev) for (const c of data) n += c.chunk?.length ?? 0;
  else n = data?.length ?? 0;
  bytes[port] = (bytes[port] ?? 0) + n;
  return original.call(this, writev, data, encoding, cb);
};
globalThis.__socketWrites = () => ({ writes: { ...writes }, bytes: { ...bytes } });
const out = process.env.SOCKET_WRITES_OUT;
if (out) {
  process.on('exit', () => {
    try {
      fs.appendFileSync(out, JSON.stringify({ pid: process.pid, argv: process.argv.slice(1).join(' ').slice(-80), cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000), writes, bytes }) + '\n');
    } catch {
      /* best effort */
    }
  });
}

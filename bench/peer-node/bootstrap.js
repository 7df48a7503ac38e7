'use strict';
// A small stand-in for FC's Node.js runtime: it speaks the same runtime API
// as fc-runtime-go-sdk's fc.Start (GET next, POST {id}/response or
// {id}/error on http://$FC_RUNTIME_API/2020-11-11/runtime/invocation/),
// so the FC runtime emulator drives this peer exactly as it drives the Go
// function. Like fc.Start it asks for the next event as soon as one
// arrives, so invocations can overlap. Only node's standard library is
// used here; the handler is handler.js.
const http = require('http');
const path = require('path');

const api = process.env.FC_RUNTIME_API;
if (!api) {
  console.error('bootstrap: FC_RUNTIME_API is not set');
  process.exit(1);
}
const [host, port] = api.split(':');
const base = '/2020-11-11/runtime/invocation/';
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const handler = require(path.join(__dirname, process.env.FC_HANDLER_FILE || 'handler.js')).handler;

function call(method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path: base + p, agent,
      headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function contextOf(h) {
  return {
    requestId: h['x-fc-request-id'],
    credentials: { accessKeyId: h['x-fc-access-key-id'], accessKeySecret: h['x-fc-access-key-secret'], securityToken: h['x-fc-security-token'] },
    function: { name: h['x-fc-function-name'], handler: h['x-fc-function-handler'], memory: Number(h['x-fc-function-memory']), timeout: Number(h['x-fc-function-timeout']) },
    region: h['x-fc-region'],
    accountId: h['x-fc-account-id'],
    retryCount: Number(h['x-fc-retry-count'] || 0),
  };
}

async function invoke(res) {
  const id = res.headers['x-fc-request-id'];
  try {
    const out = await handler(res.body, contextOf(res.headers));
    await call('POST', id + '/response', JSON.stringify(out === undefined ? null : out));
  } catch (err) {
    const body = JSON.stringify({ errorMessage: String(err && err.message || err), errorType: (err && (err.code || err.name)) || 'Error' });
    await call('POST', id + '/error', body).catch((e) => console.error('bootstrap: reporting an error:', e.message));
  }
}

async function loop() {
  for (;;) {
    let res;
    try {
      res = await call('GET', 'next');
    } catch (err) {
      // The runtime API is gone: the emulator closed; stop.
      console.error('bootstrap: next:', err.message);
      process.exit(0);
    }
    if (res.status !== 200) {
      console.error('bootstrap: next answered', res.status);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    invoke(res);
  }
}

loop();

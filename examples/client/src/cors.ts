// What a browser on another origin (a dev server on another port) needs of the server:
// CORS answers for the configured origin and none for another, and WebSocket upgrades
// allowed from the one and refused from the other. Node does not enforce CORS, so the
// answers are checked here as a browser would read them.
import WebSocket from 'ws';

import { check, equal, within } from './check.js';
import type { Server } from './http.js';

/** An origin the server was not told of. */
const foreign = 'http://foreign.invalid:5173';

async function preflight(server: Server, origin: string, method: string, headers: string): Promise<Response> {
  return fetch(server.graphqlURL, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });
}

function lowerList(v: string | null): string[] {
  return (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/** corsHTTP checks the preflight and the actual request of a POST with a bearer token. */
export async function corsHTTP(server: Server, origin: string, token: string): Promise<string> {
  const ok = await preflight(server, origin, 'POST', 'authorization,content-type,x-inkgraph-team');
  check(ok.status === 204 || ok.status === 200, `preflight from ${origin}: want 204`, ok.status);
  equal(ok.headers.get('access-control-allow-origin'), origin, `preflight from ${origin}: Access-Control-Allow-Origin`);
  const methods = lowerList(ok.headers.get('access-control-allow-methods'));
  check(methods.includes('post') && methods.includes('get'), 'preflight: Access-Control-Allow-Methods lacks GET or POST', methods);
  const headers = lowerList(ok.headers.get('access-control-allow-headers'));
  check(headers.includes('authorization') && headers.includes('content-type'), 'preflight: Access-Control-Allow-Headers lacks Authorization or Content-Type', headers);
  // A frontend acting in a team names it in this header (README: Acting in a team).
  check(headers.includes('x-inkgraph-team'), 'preflight: Access-Control-Allow-Headers lacks X-Inkgraph-Team', headers);

  const resp = await fetch(server.graphqlURL, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { email } }' }),
  });
  equal(resp.headers.get('access-control-allow-origin'), origin, `POST from ${origin}: Access-Control-Allow-Origin`);
  await resp.body?.cancel();

  const other = await preflight(server, foreign, 'POST', 'authorization,content-type');
  equal(other.headers.get('access-control-allow-origin'), null, `preflight from ${foreign}: Access-Control-Allow-Origin`);
  return `${origin} allowed (POST, GET; Authorization, Content-Type, X-Inkgraph-Team), ${foreign} not`;
}

/**
 * corsSSESingle checks what graphql-sse's single-connection mode sends from another
 * origin: PUT to reserve the stream and the X-GraphQL-Event-Stream-Token header.
 */
export async function corsSSESingle(server: Server, origin: string): Promise<string> {
  const r = await preflight(server, origin, 'PUT', 'authorization,x-graphql-event-stream-token');
  equal(r.headers.get('access-control-allow-origin'), origin, 'PUT preflight: Access-Control-Allow-Origin');
  const methods = lowerList(r.headers.get('access-control-allow-methods'));
  check(methods.includes('put') && methods.includes('delete'), 'PUT preflight: Access-Control-Allow-Methods lacks PUT or DELETE', methods);
  const headers = lowerList(r.headers.get('access-control-allow-headers'));
  check(headers.includes('x-graphql-event-stream-token'), 'PUT preflight: Access-Control-Allow-Headers lacks X-GraphQL-Event-Stream-Token', headers);
  return `${origin} may PUT, DELETE and send X-GraphQL-Event-Stream-Token`;
}

/** corsWebSocket opens graphql-transport-ws sockets as a page of each origin would. */
export async function corsWebSocket(server: Server, origin: string, token: string): Promise<string> {
  const acked = await within(10_000, `a WebSocket from ${origin}`, handshake(server, origin, token));
  equal(acked, 'connection_ack', `a WebSocket from ${origin}`);
  const refused = await within(10_000, `a WebSocket from ${foreign}`, handshake(server, foreign, token));
  check(refused.startsWith('refused'), `a WebSocket from ${foreign} should be refused`, refused);
  return `${origin} acknowledged, ${foreign} ${refused}`;
}

/** handshake answers connection_ack, or how the server refused the socket. */
function handshake(server: Server, origin: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsURL, 'graphql-transport-ws', { origin });
    ws.on('unexpected-response', (_req, res) => {
      resolve(`refused with HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('message', (m) => {
      const type = (JSON.parse(m.toString()) as { type?: string }).type ?? '?';
      ws.close(1000);
      resolve(type);
    });
    ws.on('close', (code) => resolve(`refused with close ${code}`));
    ws.on('error', (err) => reject(err));
  });
}

// End-to-end check of the WebSocket transport with the real graphql-ws client.
// Usage: node ws-client.mjs WS_URL ACCESS_TOKEN REFRESH_TOKEN EMAIL PASSWORD
// Talks to the Go test by JSON lines on stdout ({"step": ...}) and waits for its
// go-ahead on stdin where the Go side has to measure something.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import readline from 'node:readline';

const [url, access, refresh, email, password] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const waitFor = async (word) => {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin closed while waiting for ${word}`);
    if (value.trim() === word) return;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// run executes a query or mutation over client and returns its result.
const run = (client, query, variables) =>
  new Promise((resolve, reject) => {
    let result;
    client.subscribe({ query, variables }, {
      next: (v) => { result = v; },
      error: reject,
      complete: () => resolve(result),
    });
  });

async function accountEvents() {
  const closes = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${access}` },
    on: { connected: () => say({ step: 'connected' }), closed: (e) => closes.push({ code: e.code, reason: e.reason }) },
  });
  await new Promise((resolve) => { const off = client.on('connected', () => { off(); resolve(); }); });
  await waitFor('go');

  const events = [];
  let notify;
  const unsubscribe = client.subscribe(
    { query: 'subscription { accountEvents { type sessionId reason currentSession occurredAt } }' },
    {
      next: (v) => { events.push(v); notify?.(); },
      // The socket closing when this session is revoked ends the subscription too.
      error: () => {},
      complete: () => {},
    },
  );
  const nextEvent = (ms) => new Promise((resolve) => {
    if (events.length) return resolve(events.shift());
    const timer = setTimeout(() => { notify = undefined; resolve(undefined); }, ms);
    notify = () => { clearTimeout(timer); notify = undefined; resolve(events.shift()); };
  });

  // Another device signs in and out until this subscription hears of it: the
  // subscription is live on the server once the first event arrives.
  const login = 'mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { refreshToken } }';
  const logout = 'mutation($t: String!) { logout(refreshToken: $t) { sessionId } }';
  let elsewhere;
  for (let i = 0; i < 50 && !elsewhere; i++) {
    const other = await run(client, login, { e: email, p: password });
    await run(client, logout, { t: other.data.login.refreshToken });
    elsewhere = await nextEvent(200);
  }
  // Now this very session signs out.
  const me = await run(client, '{ me { email } }');
  await run(client, logout, { t: refresh });
  const own = await nextEvent(5000);
  // Its own session revoked, the socket must close (4403) rather than go on serving it.
  for (let i = 0; i < 100 && !closes.length; i++) await sleep(50);
  const closed = closes[0];

  unsubscribe();
  say({ step: 'completed', elsewhere, own, me, closed });
  await waitFor('done');
  await client.dispose();
}

// badToken connects with a token the server refuses and counts the connections the
// client makes within windowMs.
async function badToken(options, windowMs) {
  let connections = 0;
  const codes = [];
  let failure;
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: 'Bearer not-a-token' },
    on: { connecting: () => { connections++; }, closed: (e) => { codes.push(e.code); } },
    ...options,
  });
  const done = new Promise((resolve) => {
    client.subscribe({ query: 'subscription { accountEvents { type } }' }, {
      next: () => {},
      error: (e) => { failure = e?.code ?? String(e); resolve(); },
      complete: resolve,
    });
  });
  await Promise.race([done, sleep(windowMs)]);
  // Counted now: disposing may still finish a retry the client had already scheduled.
  const inWindow = { connections, codes: [...codes] };
  try {
    await client.dispose();
  } catch (e) {
    // Disposing while a retry is pending rejects with the last close event.
    failure ??= e?.code ?? String(e);
  }
  return { ...inWindow, failure };
}

try {
  await accountEvents();
  // With the client's defaults: the first retry of a 4403 waits over a second, so a
  // window of one second shows whether the client reconnects at once (a storm) or not.
  const defaults = await badToken({}, 1000);
  // With retries made instant, the attempts are still bounded by retryAttempts.
  const bounded = await badToken({ retryAttempts: 3, retryWait: async () => {} }, 5000);
  say({ step: 'result', defaults, bounded });
  process.exit(0);
} catch (e) {
  say({ step: 'fatal', error: e?.stack ?? (e?.code ? `close ${e.code} ${e.reason}` : JSON.stringify(e)) });
  process.exit(1);
}

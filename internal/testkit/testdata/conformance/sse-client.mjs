// GraphQL over Server-Sent Events with the real graphql-sse client, in both of its modes.
// Usage: node sse-client.mjs HTTP_URL ACCESS_TOKEN
// For distinct connections and for single connection, authenticated by the
// Authorization header: a query (me), the chat subscription run to its end, and a
// subscription the client stops once the server has taken it (in single-connection
// mode with a DELETE). Prints one JSON line: per mode, the results and the requests the client
// made (method, status).
import { createClient } from 'graphql-sse';

const [url, access] = process.argv.slice(2);
if (!url || !access) {
  process.stderr.write('usage: node sse-client.mjs HTTP_URL ACCESS_TOKEN\n');
  process.exit(2);
}

const chat = `subscription { chat(input: {message: "list my open tasks"}) {
  runId seq type delta done { response offline } error { code message } } }`;

// run subscribes and collects every result until the server completes.
const run = (client, payload) => new Promise((resolve, reject) => {
  const got = [];
  client.subscribe(payload, { next: (v) => got.push(v), error: reject, complete: () => resolve(got) });
});

// waiting is a subscription that sends nothing until the account's sessions change.
const waiting = 'subscription { accountEvents { type } }';

// stopWhenAccepted subscribes to waiting and stops it once the server has taken it
// (accepted says so): in single-connection mode the client then sends a DELETE.
const stopWhenAccepted = (client, accepted) => new Promise((resolve, reject) => {
  const dispose = client.subscribe({ query: waiting }, {
    next: (v) => reject(new Error(`unexpected result ${JSON.stringify(v)}`)),
    error: reject,
    complete: () => resolve('stopped'),
  });
  // The client goes on from the response in a microtask: a timer runs after it.
  accepted.then(() => setTimeout(dispose, 0));
});

const out = {};
for (const single of [false, true]) {
  const requests = [];
  let deleted, accepted;
  const sawDelete = new Promise((resolve) => { deleted = resolve; });
  const waitingAccepted = new Promise((resolve) => { accepted = resolve; });
  const fetchFn = async (input, init) => {
    const method = init?.method ?? 'GET';
    const res = await fetch(input, init);
    requests.push({ method, status: res.status });
    if (method === 'DELETE') deleted();
    if (method === 'POST' && String(init.body).includes('accountEvents')) accepted();
    return res;
  };
  const client = createClient({
    url,
    singleConnection: single,
    lazy: false, // single connection: one stream for all three operations
    headers: { Authorization: `Bearer ${access}` },
    fetchFn,
    retryAttempts: 0,
  });
  const mode = single ? 'single' : 'distinct';
  try {
    const step = (s) => process.stderr.write(`${mode}: ${s}\n`);
    step('query');
    const me = await run(client, { query: '{ me { email } }' });
    step('chat');
    const chatRun = await run(client, { query: chat });
    step('stopped subscription');
    const stopped = await stopWhenAccepted(client, waitingAccepted);
    if (single) {
      let timer;
      const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no DELETE within 10s of stopping')), 10000); });
      await Promise.race([sawDelete, late]).finally(() => clearTimeout(timer));
    }
    step('done');
    out[mode] = { me, chat: chatRun, stopped, requests };
  } catch (err) {
    out[mode] = { error: String(err?.message ?? err), requests };
  }
  client.dispose();
}
process.stdout.write(JSON.stringify(out) + '\n');

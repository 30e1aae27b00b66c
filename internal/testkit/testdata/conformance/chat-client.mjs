// End-to-end check of chat streaming with the real graphql-ws client.
// Usage: node chat-client.mjs WS_URL ACCESS_TOKEN
// Runs one chat to its end and prints its events, waits for "go" on stdin, then
// starts a second chat, unsubscribes after its first token and says so; it waits for "done" on stdin
// before closing, so the Go side can watch the upstream request end.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import readline from 'node:readline';

const [url, access] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const waitFor = async (word) => {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin closed while waiting for ${word}`);
    if (value.trim() === word) return;
  }
};

const query = `subscription($input: ChatInput!) { chat(input: $input) {
  runId seq type agent delta
  route { agents pipeline source }
  toolCall { id name arguments }
  toolResult { callId name result error }
  action { type collection recordId payload agent }
  usage { promptTokens completionTokens totalTokens calls provider model offline agents { agent calls totalTokens } }
  done { response finishReason offline actions { type collection payload } }
  error { code message retryable }
} }`;

async function main() {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    connectionParams: { authorization: `Bearer ${access}` },
  });

  const events = await new Promise((resolve, reject) => {
    const got = [];
    client.subscribe({ query, variables: { input: { message: 'list my open tasks', context: {
      tasks: [{ id: 't1', title: 'Write the launch post', status: 'todo', priority: 'high' }],
    } } } }, {
      next: (v) => got.push({ at: performance.now(), ...v }),
      error: reject,
      complete: () => resolve(got),
    });
  });
  say({ step: 'streamed', events });
  await waitFor('go'); // the Go side arms the held answer first

  await new Promise((resolve, reject) => {
    let stop;
    stop = client.subscribe({ query, variables: { input: { message: 'list my open tasks' } } }, {
      next: (v) => {
        if (v.data?.chat?.type === 'TOKEN' && stop) { stop(); stop = undefined; resolve(); }
      },
      error: reject,
      complete: () => resolve(),
    });
  });
  say({ step: 'unsubscribed' });
  await waitFor('done');
  await client.dispose();
  say({ step: 'closed' });
}

main().then(() => process.exit(0), (e) => { say({ step: 'fatal', error: String(e?.message ?? e?.reason ?? JSON.stringify(e)) }); process.exit(1); });

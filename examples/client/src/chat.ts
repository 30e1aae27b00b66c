// The chat subscription over each transport a browser can use: graphql-ws on a
// WebSocket, and graphql-sse in its two modes. Every transport must stream the same
// run: TOKEN events with text, in sequence, ending with DONE.
import { print } from 'graphql';
import { createClient as createSSEClient } from 'graphql-sse';
import { createClient as createWSClient, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';

import { check, equal, present, within } from './check.js';
import { ChatDocument } from './documents.js';
import type { ChatSubscription, ChatSubscriptionVariables } from './gql/graphql.js';
import { auth, documentId, type Server } from './http.js';

type ChatEvent = ChatSubscription['chat'];

const taskTitle = 'Write the launch post';

/** What a chat of the offline provider is asked: a task list, so an agent answers from it. */
export const chatVariables: ChatSubscriptionVariables = {
  input: {
    message: 'list my open tasks',
    mode: 'DIRECT',
    context: { tasks: [{ id: 't1', title: taskTitle, status: 'todo', priority: 'high', due: '2030-01-15T09:00:00Z' }] },
  },
};

/** checkRun asserts what every transport must deliver and returns a one-line account. */
export function checkRun(events: ChatEvent[], transport: string): string {
  check(events.length > 0, `${transport}: the chat ended without an event`);
  const runId = events[0]!.runId;
  events.forEach((e, i) => {
    equal(e.seq, i + 1, `${transport}: event ${i + 1}'s seq`);
    equal(e.runId, runId, `${transport}: event ${i + 1}'s runId`);
  });
  const last = events[events.length - 1]!;
  check(last.type === 'DONE', `${transport}: the run did not end with DONE`, last.type === 'ERROR' ? last.error : last);
  const tokens = events.filter((e) => e.type === 'TOKEN');
  check(tokens.length > 0, `${transport}: no TOKEN event`, events.map((e) => e.type));
  const text = tokens.map((e) => e.delta).join('');
  check(text.trim() !== '', `${transport}: the TOKEN events carry no text`);
  const done = present(last.done, `${transport}: the DONE event's done`);
  check(done.response.trim() !== '', `${transport}: DONE has an empty response`);
  // The streamed text is the answer, and the answer used the task the client sent.
  equal(text, done.response, `${transport}: the TOKEN deltas joined`);
  check(text.includes(taskTitle), `${transport}: the answer does not mention the task sent as context`, text);
  return `${tokens.length} tokens, ${text.length} characters, run ${runId}`;
}

/** overWebSocket runs the chat with graphql-ws, the token in connectionParams. */
export async function overWebSocket(server: Server, token: string, send: 'text' | 'documentId' = 'text'): Promise<ChatEvent[]> {
  const client = createWSClient({
    url: server.wsURL,
    webSocketImpl: WebSocket, // Node 20 has no WebSocket of its own; a browser needs no such line
    // The server reads the access token from connection_init's payload, under any of
    // authorization ("Bearer …" or the bare token), authToken, token, accessToken or
    // access_token.
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  try {
    // A persisted document goes by its ID alone. graphql-ws insists on a query string,
    // so it is empty, which the server takes for absent.
    const payload: SubscribePayload = send === 'documentId'
      ? ({ query: '', documentId: documentId(ChatDocument), variables: chatVariables } as SubscribePayload)
      : { query: print(ChatDocument), variables: chatVariables };
    return await within(30_000, 'chat over graphql-ws', collect(client.iterate<ChatSubscription>(payload)));
  } finally {
    await client.dispose();
  }
}

/** overSSE runs the chat with graphql-sse, in distinct-connections or single-connection mode. */
export async function overSSE(server: Server, token: string, singleConnection: boolean): Promise<ChatEvent[]> {
  const client = createSSEClient({
    url: server.graphqlURL,
    singleConnection,
    headers: auth(token),
    retryAttempts: 0,
  });
  try {
    const mode = singleConnection ? 'single-connection' : 'distinct-connections';
    return await within(30_000, `chat over graphql-sse (${mode})`,
      collect(client.iterate<ChatSubscription>({ query: print(ChatDocument), variables: chatVariables })));
  } finally {
    client.dispose();
  }
}

async function collect(results: AsyncIterable<{ data?: ChatSubscription | null; errors?: readonly unknown[] }>): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const r of results) {
    check(!r.errors?.length, 'the chat subscription answered errors', r.errors);
    events.push(present(r.data, 'a chat result\'s data').chat);
  }
  return events;
}

// @defer with the real Apollo Client 4 and its Defer20220824Handler, over HttpLink
// (multipart/mixed) and over GraphQLWsLink (graphql-ws, one next message a payload).
// Usage: node apollo-defer.mjs HTTP_URL ACCESS_TOKEN
// Each client watches the onboarding summary with its slow parts deferred and
// records every result it is given with data, until the complete one. Prints one
// JSON line: per link ("http", "ws"), the data of each result, or an error.
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write('usage: node apollo-defer.mjs HTTP_URL ACCESS_TOKEN\n');
  process.exit(2);
}

const query = gql(`query ApolloDeferredSummary {
  onboarding {
    progress { currentStep }
    ... @defer(label: "slow") {
      websiteAnalysis { url title }
      personaReadiness { ready missing }
      personalization { businessName language }
    }
  }
}`);

// watch collects the data of each result the client gives until one is complete.
function watch(client) {
  return new Promise((resolve, reject) => {
    const results = [];
    const sub = client.watchQuery({ query, fetchPolicy: 'no-cache' }).subscribe({
      next: (r) => {
        if (r.error) {
          sub.unsubscribe();
          reject(r.error);
          return;
        }
        if (r.data === undefined || r.dataState === 'empty') return;
        results.push(JSON.parse(JSON.stringify(r.data)));
        if (r.dataState === 'complete') {
          sub.unsubscribe();
          resolve(results);
        }
      },
      error: reject,
    });
  });
}

async function run(name, link, close) {
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link,
    incrementalHandler: new Defer20220824Handler(),
  });
  try {
    return { results: await watch(client) };
  } catch (err) {
    return { error: `${name}: ${String((err && err.message) || err)}` };
  } finally {
    client.stop();
    if (close) await close();
  }
}

const out = {};
out.http = await run('http', new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` } }));

const ws = createClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  connectionParams: { authorization: `Bearer ${token}` },
});
out.ws = await run('ws', new GraphQLWsLink(ws), () => ws.dispose());
process.stdout.write(JSON.stringify(out) + '\n');

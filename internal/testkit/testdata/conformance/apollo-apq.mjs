// Automatic persisted queries with the real Apollo Client and its persisted-query link.
// Usage: node apollo-apq.mjs HTTP_URL TAG
// For POST and for GET (useGETForHashedQueries), a first client sends a query it has
// never sent (the hash alone, then, told PersistedQueryNotFound, the hash with the
// query); a second client then sends the hash alone and is answered from the server's
// store. Prints one JSON line: per mode, each client's result and the requests it made.
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

const [url, tag] = process.argv.slice(2);
if (!url || !tag) {
  process.stderr.write('usage: node apollo-apq.mjs HTTP_URL TAG\n');
  process.exit(2);
}
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

// client builds an Apollo Client whose fetch records each request: its method, and
// whether it carried the query text.
function client(useGET, requests) {
  const recordingFetch = async (input, init) => {
    const u = new URL(typeof input === 'string' ? input : input.url);
    const method = (init && init.method) || 'GET';
    const hasQuery = method === 'GET'
      ? u.searchParams.has('query')
      : JSON.parse(init.body).query !== undefined;
    const resp = await fetch(input, init);
    requests.push({ method, hasQuery, status: resp.status });
    return resp;
  };
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET })
      .concat(new HttpLink({ uri: url, fetch: recordingFetch })),
  });
}

const out = {};
for (const mode of ['POST', 'GET']) {
  const query = gql(`query ApolloAPQ${mode}${tag} { plans { tier } }`);
  out[mode] = [];
  for (let i = 0; i < 2; i++) {
    const requests = [];
    const c = client(mode === 'GET', requests);
    try {
      const { data } = await c.query({ query, fetchPolicy: 'no-cache' });
      out[mode].push({ tiers: data.plans.map((p) => p.tier), requests });
    } catch (err) {
      out[mode].push({ error: String(err && err.message || err), requests });
    }
  }
}
process.stdout.write(JSON.stringify(out) + '\n');

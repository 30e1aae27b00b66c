// Apollo Client 4 against Inkgraph: automatic persisted queries (APQ) and @defer.
import { ApolloClient, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

import { check, equal, present, within } from './check.js';
import { DeferredSummaryDocument, OnboardingSummaryDocument } from './documents.js';
import { auth, type Server } from './http.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** One HTTP request Apollo made: how, whether it carried the query text, what came back. */
interface Sent {
  method: string;
  withQuery: boolean;
  codes: string[];
}

function recordingFetch(log: Sent[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = init?.method ?? 'GET';
    const withQuery = method === 'GET' ? url.searchParams.has('query') : (JSON.parse(String(init?.body)) as { query?: string }).query !== undefined;
    const resp = await fetch(input, init);
    const body = (await resp.clone().json()) as { errors?: { extensions?: { code?: string } }[] };
    log.push({ method, withQuery, codes: (body.errors ?? []).map((e) => e.extensions?.code ?? '?') });
    return resp;
  };
}

/**
 * apq asks for the summary through Apollo's persisted-query link, twice, each time
 * with a new client: the first sends the hash alone, is told PERSISTED_QUERY_NOT_FOUND
 * and sends it again with the query; the second sends the hash alone and is answered.
 * With useGET, hash-only requests are GETs (cacheable by a CDN).
 */
export async function apq(server: Server, token: string, email: string, useGET: boolean, tag: string): Promise<string> {
  // A name of this run's own, so the hash is new to the server even when it has
  // answered this program before.
  const query = renamed(OnboardingSummaryDocument, `OnboardingSummary_${tag}_${useGET ? 'GET' : 'POST'}`);
  const rounds: Sent[][] = [];
  for (let i = 0; i < 2; i++) {
    const log: Sent[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET })
        .concat(new HttpLink({ uri: server.graphqlURL, headers: auth(token), fetch: recordingFetch(log) })),
    });
    const { data } = await within(15_000, 'an APQ query', client.query({ query, fetchPolicy: 'no-cache' }));
    equal(present(data, 'the APQ answer').me.email, email, 'the summary\'s email (APQ)');
    rounds.push(log);
  }
  const [first, second] = rounds as [Sent[], Sent[]];
  const hashOnly = useGET ? 'GET' : 'POST';
  check(first.length === 2 && first[0]!.method === hashOnly && !first[0]!.withQuery && first[0]!.codes[0] === 'PERSISTED_QUERY_NOT_FOUND'
    && first[1]!.withQuery && first[1]!.codes.length === 0,
  'the first client should send the hash, be told PERSISTED_QUERY_NOT_FOUND and send the query', first);
  check(second.length === 1 && second[0]!.method === hashOnly && !second[0]!.withQuery && second[0]!.codes.length === 0,
    'the second client should be answered from the hash alone', second);
  return `hash-only ${hashOnly} → PERSISTED_QUERY_NOT_FOUND → with query; then hash alone answered`;
}

/** renamed is doc with another operation name: the same types, another text and hash. */
function renamed<R, V extends Record<string, unknown>>(doc: TypedDocumentNode<R, V>, name: string): TypedDocumentNode<R, V> {
  return {
    kind: doc.kind,
    definitions: doc.definitions.map((d) => (d.kind === 'OperationDefinition' ? { ...d, name: { kind: 'Name' as never, value: name } } : d)),
  } as TypedDocumentNode<R, V>;
}

/**
 * deferred asks for the summary with its slow part deferred, through Apollo Client
 * 4's @defer support: a first result streams without the deferred fields, the last
 * one has them.
 */
export async function deferred(server: Server, token: string, businessName: string): Promise<string> {
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri: server.graphqlURL, headers: auth(token) }),
    incrementalHandler: new Defer20220824Handler(),
  });
  const results = await within(15_000, 'a deferred query', new Promise<{ dataState: string; data: unknown }[]>((resolve, reject) => {
    const seen: { dataState: string; data: unknown }[] = [];
    const sub = client.watchQuery({ query: DeferredSummaryDocument, fetchPolicy: 'no-cache' }).subscribe({
      next: (r) => {
        if (r.error) {
          sub.unsubscribe();
          reject(r.error);
          return;
        }
        if (r.dataState === 'streaming' || r.dataState === 'complete') seen.push({ dataState: r.dataState, data: r.data });
        if (r.dataState === 'complete') {
          sub.unsubscribe();
          resolve(seen);
        }
      },
      error: reject,
    });
  }));
  const last = results[results.length - 1]!;
  const done = present(last.data as { onboarding?: { personaReadiness?: { sources: string[] }; personalization?: { businessName: string } } }, 'the complete result').onboarding;
  equal(present(done?.personalization, 'the deferred personalization').businessName, businessName, 'personalization.businessName');
  present(done?.personaReadiness, 'the deferred personaReadiness');
  const streamed = results.filter((r) => r.dataState === 'streaming');
  check(streamed.length > 0, 'Apollo saw no streaming result before the complete one: was the answer incremental?', results.map((r) => r.dataState));
  const first = streamed[0]!.data as { onboarding?: { personaReadiness?: unknown; progress?: unknown } };
  check(first.onboarding?.progress !== undefined && first.onboarding.personaReadiness === undefined,
    'the first streamed result should have the progress and not the deferred personaReadiness', first);
  return `${streamed.length} streaming result(s), then complete`;
}

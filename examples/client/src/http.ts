// GraphQL over HTTP with nothing but fetch: POST and GET of a typed document, by its
// text or by its persisted-document ID, and a reader of multipart/mixed (@defer).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';

import { check, CheckError, show } from './check.js';

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export interface Result<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

/** How a request names its document. */
export type Send = 'text' | 'documentId';

/** documentId is the SHA-256 that codegen embedded in the document (codegen.ts). */
export function documentId(doc: DocumentNode): string {
  const hash = (doc as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  check(typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash), 'the document carries no SHA-256 (persistedDocuments in codegen.ts)', hash);
  return hash;
}

export class Server {
  readonly graphqlURL: string;
  readonly wsURL: string;

  constructor(base: string) {
    const u = new URL(base);
    if (!u.pathname.endsWith('/graphql')) u.pathname = `${u.pathname.replace(/\/$/, '')}/graphql`;
    this.graphqlURL = u.toString();
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    this.wsURL = u.toString();
  }

  /** post sends the document and its variables; GraphQL errors come back in the result. */
  async post<T, V>(doc: TypedDocumentNode<T, V>, variables: V, opts: { token?: string; send?: Send } = {}): Promise<Result<T>> {
    const body: Record<string, unknown> = { variables };
    if (opts.send === 'documentId') body.documentId = documentId(doc);
    else body.query = print(doc);
    return this.postRaw<T>(body, opts.token);
  }

  /** postRaw sends a request body as it is. */
  async postRaw<T>(body: Record<string, unknown>, token?: string): Promise<Result<T>> {
    const resp = await fetch(this.graphqlURL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...auth(token) },
      body: JSON.stringify(body),
    });
    return readJSON<T>(resp);
  }

  /** get sends a query in the URL, by its persisted-document ID or its text. */
  async get<T, V>(doc: TypedDocumentNode<T, V>, variables: V, opts: { token?: string; send?: Send } = {}): Promise<Result<T>> {
    const u = new URL(this.graphqlURL);
    if (opts.send === 'documentId') u.searchParams.set('documentId', documentId(doc));
    else u.searchParams.set('query', print(doc));
    if (variables && Object.keys(variables).length > 0) u.searchParams.set('variables', JSON.stringify(variables));
    const resp = await fetch(u, { headers: { accept: 'application/graphql-response+json', ...auth(opts.token) } });
    return readJSON<T>(resp);
  }

  /** must is post, failing unless the answer has data and no errors. */
  async must<T, V>(doc: TypedDocumentNode<T, V>, variables: V, opts: { token?: string; send?: Send } = {}): Promise<T> {
    return data(await this.post(doc, variables, opts), operationName(doc));
  }

  /**
   * multipart posts a query that defers part of itself and returns the parts of the
   * multipart/mixed answer in the order they arrived, each with the time it did.
   */
  async multipart(doc: DocumentNode, token: string): Promise<{ contentType: string; parts: { at: number; body: Record<string, unknown> }[] }> {
    const resp = await fetch(this.graphqlURL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // Apollo Client's Accept for @defer; the server answers multipart/mixed.
        accept: 'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9',
        ...auth(token),
      },
      body: JSON.stringify({ query: print(doc) }),
    });
    const contentType = resp.headers.get('content-type') ?? '';
    if (!contentType.startsWith('multipart/mixed')) {
      const text = await resp.text();
      throw new CheckError(`a deferred query was answered ${resp.status} ${contentType || '(no content type)'}, not multipart/mixed: ${text.slice(0, 400)}`);
    }
    const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1] ?? '-';
    const delimiter = `\r\n--${boundary}`;
    const parts: { at: number; body: Record<string, unknown> }[] = [];
    // Read as it streams: a part is whole once the next delimiter has arrived.
    let buf = '\r\n';
    const decoder = new TextDecoder();
    check(resp.body, 'the multipart answer has no body');
    for await (const chunk of resp.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      for (;;) {
        const start = buf.indexOf(delimiter);
        if (start < 0) break;
        const next = buf.indexOf(delimiter, start + delimiter.length);
        if (next < 0) break;
        const part = buf.slice(start + delimiter.length, next);
        buf = buf.slice(next);
        const bodyAt = part.indexOf('\r\n\r\n');
        if (bodyAt >= 0 && part.slice(bodyAt + 4).trim() !== '') {
          parts.push({ at: performance.now(), body: JSON.parse(part.slice(bodyAt + 4)) as Record<string, unknown> });
        }
      }
    }
    check(buf.startsWith(`${delimiter}--`), 'the multipart answer does not end with its closing delimiter', buf.slice(0, 200));
    return { contentType, parts };
  }
}

export function auth(token?: string): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function readJSON<T>(resp: Response): Promise<Result<T>> {
  const text = await resp.text();
  try {
    return JSON.parse(text) as Result<T>;
  } catch {
    throw new CheckError(`HTTP ${resp.status} with a body that is not JSON: ${text.slice(0, 400)}`);
  }
}

/** data returns the result's data, failing on any error. */
export function data<T>(r: Result<T>, what: string): T {
  if (r.errors?.length) throw new CheckError(`${what} failed: ${show(r.errors)}`);
  check(r.data, `${what} answered no data`, r);
  return r.data;
}

/** errorCode returns the code of the result's one error, failing when it has data or no error. */
export function errorCode(r: Result<unknown>, what: string): GraphQLError {
  check(r.errors?.length === 1 && !r.data, `${what}: want exactly one error and no data`, r);
  return r.errors[0]!;
}

export function operationName(doc: DocumentNode): string {
  for (const def of doc.definitions) {
    if (def.kind === 'OperationDefinition' && def.name) return def.name.value;
  }
  return 'the operation';
}

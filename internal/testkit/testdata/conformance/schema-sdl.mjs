// Checks GET /schema.graphql with graphql-js, as a frontend's code generator reads it:
// the SDL must build a valid schema, and that schema must print the same as the one
// graphql-js builds from the server's introspection (descriptions included).
// Usage: node schema-sdl.mjs BASE_URL   (BASE_URL without a trailing slash)
// Prints {"status", "contentType", "types", "same", "diff"} as one JSON line.
import { buildSchema, buildClientSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';

const [base] = process.argv.slice(2);

async function main() {
  const res = await fetch(`${base}/schema.graphql`);
  const sdl = await res.text();
  const fromSDL = lexicographicSortSchema(buildSchema(sdl));

  const intro = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) }),
  });
  const body = await intro.json();
  if (body.errors) throw new Error(`introspection: ${JSON.stringify(body.errors)}`);
  const fromIntrospection = lexicographicSortSchema(buildClientSchema(body.data));

  const a = printSchema(fromSDL).split('\n');
  const b = printSchema(fromIntrospection).split('\n');
  const diff = [];
  for (let i = 0; i < Math.max(a.length, b.length) && diff.length < 10; i++) {
    if (a[i] !== b[i]) diff.push({ line: i + 1, sdl: a[i] ?? null, introspection: b[i] ?? null });
  }
  const types = Object.keys(fromSDL.getTypeMap()).filter((n) => !n.startsWith('__')).length;
  process.stdout.write(JSON.stringify({
    status: res.status, contentType: res.headers.get('content-type'), types, same: diff.length === 0, diff,
  }) + '\n');
}

main().catch((e) => { process.stderr.write(String(e?.stack ?? e) + '\n'); process.exit(1); });

// graphql-codegen's configuration: typed documents for src/ from Inkgraph's schema, and a
// persisted-documents manifest (SHA-256 → document) that a server started with
// INKGRAPH_TRUSTED_DOCUMENTS=src/gql/persisted-documents.json accepts, and nothing else.
// Run with `npm run codegen` (ci.sh fails when the committed src/gql/ differs).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  // The whole schema as the server runs it, printed by `go generate` (the same SDL a
  // development server serves at /schema.graphql).
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**/*'],
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        // Apollo, Inkgraph's APQ and its trusted-documents mode all name a document
        // by the SHA-256 of its text; the preset's default is SHA-1.
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
      config: {
        // Every custom scalar is typed as what travels on the wire (see
        // graph/schema/base.graphqls, chat.graphqls and gqlgen.yml's bindings); an
        // unmapped one is an error rather than `any`.
        strictScalars: true,
        scalars: {
          // RFC 3339 text with nanoseconds, e.g. "2026-12-06T11:37:15.123456789Z"
          // (gqlgen's MarshalTime); input takes RFC 3339 too.
          Time: 'string',
          // A JSON number (gqlgen's MarshalInt64 writes digits, not a string); input
          // takes a number or a decimal string. Exact up to 2^53 in JavaScript.
          Int64: { input: 'number | string', output: 'number' },
          // Any JSON value: object, array, string, number, boolean or null.
          JSON: '../scalars.js#JSONValue',
        },
        enumsAsTypes: true,
        // Only the types the documents use (their inputs and enums included), not
        // every type of the schema.
        onlyOperationTypes: true,
        useTypeImports: true,
        // Node's ES modules need the .js extension in relative imports.
        emitLegacyCommonJSImports: false,
        // Documents keep __typename out unless they ask for it.
        skipTypename: true,
      },
    },
  },
};

export default config;

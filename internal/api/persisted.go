package api

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/app"
)

// persistedCacheSize is how many persisted documents each process keeps in front of
// the shared store.
const persistedCacheSize = 1000

// The codes of persisted-query answers.
const (
	codePersistedQueryNotFound     = "PERSISTED_QUERY_NOT_FOUND"
	codePersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	codePersistedQueryInvalid      = "PERSISTED_QUERY_INVALID"
	codePersistedQueryNotAllowed   = "PERSISTED_QUERY_NOT_ALLOWED"
)

// The parameters refusals name.
const (
	fieldPersistedQuery = "extensions.persistedQuery"
	fieldQuery          = "query"
)

// persistedQueries answers requests that name a document by its hash instead of
// carrying it, in one of two modes.
//
// Automatic persisted queries (Apollo's protocol; trusted nil): a request with
// extensions.persistedQuery {version: 1, sha256Hash} and no query runs the query
// registered under that hash, or is answered PersistedQueryNotFound
// (PERSISTED_QUERY_NOT_FOUND) so that the client sends it again with the query, which
// is then registered: in this process's cache and, when there is one, in the store
// every instance shares (Redis), so another instance finds it too. A store that fails
// is logged and taken for "not found" (or, registering, ignored): the client resends
// the query and the request is answered all the same.
//
// Trusted documents (trusted set): only the manifest's documents run. A hash (or a
// graphql-codegen documentId, which the transports put under persistedQuery) names one,
// and is PERSISTED_QUERY_NOT_FOUND when the manifest does not hold it; a query's text
// is run only when it is exactly one of the manifest's documents, and is otherwise
// PERSISTED_QUERY_NOT_ALLOWED (field "query"). Nothing is registered.
//
// Everywhere: a hash that is not the query's is PERSISTED_QUERY_HASH_MISMATCH, a
// malformed extension or another version PERSISTED_QUERY_INVALID, both naming
// extensions.persistedQuery.
type persistedQueries struct {
	cache   graphql.Cache[string]
	store   app.PersistedQueries // nil: this process alone
	trusted *app.TrustedDocuments
	logger  *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*persistedQueries)(nil)

// newPersistedQueries returns the extension over the services' store and manifest.
func newPersistedQueries(svc *app.Services, logger *slog.Logger) *persistedQueries {
	return &persistedQueries{
		cache: lru.New[string](persistedCacheSize), store: svc.PersistedQueries, trusted: svc.TrustedDocuments,
		logger: logger,
	}
}

// ExtensionName is gqlgen's own APQ's, whose stats (extension.GetApqStats) it sets.
func (*persistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

// Validate accepts every schema.
func (*persistedQueries) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters fills the query in from its hash, registers it, or
// refuses the request.
func (p *persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	hash, named, gqlErr := persistedHash(params.Extensions)
	if gqlErr != nil {
		return gqlErr
	}
	if p.trusted != nil {
		return p.trustedOnly(params, hash, named)
	}
	if !named {
		return nil
	}
	sent := params.Query != ""
	if sent {
		if app.SHA256Hex(params.Query) != hash {
			return persistedError(codePersistedQueryHashMismatch, fieldPersistedQuery, "provided APQ hash does not match query")
		}
		// Registered by apqRegistrar once the document has passed validation, the
		// limits and the rate limit: nothing is stored for a request refused.
	} else {
		query, found := p.lookup(ctx, hash)
		if !found {
			return persistedError(codePersistedQueryNotFound, fieldPersistedQuery, "PersistedQueryNotFound")
		}
		params.Query = query
	}
	setAPQStats(ctx, hash, sent)
	return nil
}

// maxRegisteredQueryBytes bounds a document APQ registers: a larger one runs but is
// not kept, so that nobody can fill the caches (and Redis, which also holds the rate
// limits) with large documents, valid or padded with comments.
const maxRegisteredQueryBytes = 32 << 10

// register keeps a query under its hash, in this process and in the shared store.
func (p *persistedQueries) register(ctx context.Context, hash, query string) {
	if len(query) > maxRegisteredQueryBytes {
		return
	}
	p.cache.Add(ctx, hash, query)
	if p.store != nil {
		if err := p.store.Put(ctx, hash, query); err != nil {
			// The query runs: only another instance will ask for it again.
			p.logger.WarnContext(ctx, "register a persisted query in the shared store", "hash", hash, "error", err)
		}
	}
}

// apqRegistrar registers the query an APQ request sent with its hash, once the
// operation has passed validation and the document limits and, placed inside the
// rate limit, been admitted: a refused or invalid request stores nothing.
type apqRegistrar struct{ p *persistedQueries }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = apqRegistrar{}

// ExtensionName names it (it runs in the operationChain, not in gqlgen's list).
func (apqRegistrar) ExtensionName() string { return "PersistedQueryRegistration" }

// Validate accepts every schema.
func (apqRegistrar) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation registers the operation's query when its request sent one with
// its hash (the stats MutateOperationParameters recorded), then runs it.
func (r apqRegistrar) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if r.p.trusted == nil {
		rc := graphql.GetOperationContext(ctx)
		if stats, ok := rc.Stats.GetExtension("APQ").(*extension.ApqStats); ok && stats.SentQuery {
			r.p.register(ctx, stats.Hash, rc.RawQuery)
		}
	}
	return next(ctx)
}

// lookup finds a registered query: in this process, then in the shared store.
func (p *persistedQueries) lookup(ctx context.Context, hash string) (string, bool) {
	if query, ok := p.cache.Get(ctx, hash); ok {
		return query, true
	}
	if p.store == nil {
		return "", false
	}
	query, found, err := p.store.Get(ctx, hash)
	if err != nil {
		// Not found, as far as the client knows: it sends the query again.
		p.logger.WarnContext(ctx, "look a persisted query up in the shared store", "hash", hash, "error", err)
		return "", false
	}
	if !found || app.SHA256Hex(query) != hash {
		// A value under the key that is not the hash's document was not put there by
		// Put (which checks): never run it.
		return "", false
	}
	p.cache.Add(ctx, hash, query)
	return query, true
}

// trustedOnly runs only the manifest's documents.
func (p *persistedQueries) trustedOnly(params *graphql.RawParams, hash string, named bool) *gqlerror.Error {
	if params.Query == "" {
		// The transports refuse a request with neither query nor hash.
		body, ok := p.trusted.ByID(hash)
		if !ok {
			return persistedError(codePersistedQueryNotFound, fieldPersistedQuery, "PersistedQueryNotFound")
		}
		params.Query = body
		return nil
	}
	id, ok := p.trusted.IDOf(params.Query)
	if !ok {
		return persistedError(codePersistedQueryNotAllowed, fieldQuery,
			"only the server's trusted documents run: send the document's hash (or its exact text) from the persisted-documents manifest")
	}
	if named && hash != id && hash != app.SHA256Hex(params.Query) {
		return persistedError(codePersistedQueryHashMismatch, fieldPersistedQuery, "provided APQ hash does not match query")
	}
	return nil
}

// persistedHash reads extensions.persistedQuery: named is false when there is none.
// Its version must be 1 and its sha256Hash a non-empty string.
func persistedHash(extensions map[string]any) (hash string, named bool, gqlErr *gqlerror.Error) {
	raw, ok := extensions["persistedQuery"]
	if !ok || raw == nil {
		return "", false, nil
	}
	pq, ok := raw.(map[string]any)
	if !ok {
		return "", false, persistedError(codePersistedQueryInvalid, fieldPersistedQuery, "invalid APQ extension data")
	}
	if !isVersionOne(pq["version"]) {
		return "", false, persistedError(codePersistedQueryInvalid, fieldPersistedQuery, "unsupported APQ version")
	}
	hash, ok = pq["sha256Hash"].(string)
	if !ok || hash == "" {
		return "", false, persistedError(codePersistedQueryInvalid, fieldPersistedQuery, "invalid APQ extension data")
	}
	return app.NormalizeDocumentID(hash), true, nil
}

// isVersionOne reports whether v is the number 1, as JSON decoding left it.
func isVersionOne(v any) bool {
	switch n := v.(type) {
	case json.Number:
		return n.String() == "1"
	case float64:
		return n == 1
	case int:
		return n == 1
	case int64:
		return n == 1
	}
	return false
}

// persistedError is a refusal with its code and the parameter it concerns.
func persistedError(code, field, message string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", message)
	errcode.Set(err, code)
	err.Extensions["field"] = field
	return err
}

// setAPQStats records the request as gqlgen's own APQ does, for whoever reads it.
func setAPQStats(ctx context.Context, hash string, sent bool) {
	if graphql.HasOperationContext(ctx) {
		graphql.GetOperationContext(ctx).Stats.SetExtension("APQ", &extension.ApqStats{Hash: hash, SentQuery: sent})
	}
}

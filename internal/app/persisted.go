package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// PersistedQueries keeps the documents clients register by automatic persisted
// queries (APQ), shared by every instance. The server keeps an in-process cache in
// front of it; a store that fails is treated as not having the document, so the
// client sends it again.
type PersistedQueries interface {
	// Get returns the document registered under hash; found is false when there is
	// none (or it expired).
	Get(ctx context.Context, hash string) (document string, found bool, err error)
	// Put registers document under hash (the caller has checked that hash is its
	// SHA-256) for the store's time to live.
	Put(ctx context.Context, hash, document string) error
}

// RedisPersistedQueries keeps APQ documents in Redis under prefix+hash, each for ttl
// from its last use: a document in use never expires, one no client sends any more
// does.
type RedisPersistedQueries struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ PersistedQueries = (*RedisPersistedQueries)(nil)

// NewRedisPersistedQueries returns a store in client under prefix, keeping each
// document for ttl after its last use.
func NewRedisPersistedQueries(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisPersistedQueries {
	return &RedisPersistedQueries{client: client, prefix: prefix, ttl: ttl}
}

// Get reads the document and extends its time to live (GETEX).
func (r *RedisPersistedQueries) Get(ctx context.Context, hash string) (string, bool, error) {
	doc, err := r.client.GetEx(ctx, r.prefix+hash, r.ttl).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("persisted queries: redis get: %w", err)
	}
	return doc, true, nil
}

// Put stores the document for the time to live.
func (r *RedisPersistedQueries) Put(ctx context.Context, hash, document string) error {
	if err := r.client.Set(ctx, r.prefix+hash, document, r.ttl).Err(); err != nil {
		return fmt.Errorf("persisted queries: redis set: %w", err)
	}
	return nil
}

// TrustedDocuments is a persisted-documents manifest: the only operations a server in
// trusted-documents mode runs, each under its ID. It is read once, at start, and never
// changes.
type TrustedDocuments struct {
	// Format is the manifest's: "client-preset" (graphql-codegen's
	// persisted-documents.json) or "apollo-persisted-query-manifest".
	Format string
	byID   map[string]string
	bodies map[string]string // body → its ID
}

// The manifest formats LoadTrustedDocuments reads.
const (
	FormatClientPreset = "client-preset"
	FormatApollo       = "apollo-persisted-query-manifest"
)

// LoadTrustedDocuments reads the manifest at path: graphql-codegen client preset's
// persisted-documents.json ({"<id>": "<document>", …}) or Apollo's persisted query
// manifest ({"format": "apollo-persisted-query-manifest", "version": 1,
// "operations": [{"id", "name", "type", "body"}, …]}).
//
// An ID that is a SHA-256 (64 hex digits, as both tools make by default) must be the
// SHA-256 of its body: a manifest whose entry says otherwise was edited or built
// wrongly, and is refused. Any other ID (graphql-codegen's sha1, a custom
// generateOperationId) is taken as the tools' own name for the document and matched
// exactly, as those clients send it. An empty manifest, an empty ID or body, or one ID
// given two bodies is refused too.
func LoadTrustedDocuments(path string) (*TrustedDocuments, error) {
	// The operator's own setting, read once at start.
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, err
	}
	docs, err := ParseTrustedDocuments(trimBOM(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return docs, nil
}

// ParseTrustedDocuments is LoadTrustedDocuments for a manifest already read.
func ParseTrustedDocuments(data []byte) (*TrustedDocuments, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, errors.New("not a JSON object: want graphql-codegen's persisted-documents.json or Apollo's persisted query manifest")
	}
	docs := &TrustedDocuments{byID: map[string]string{}, bodies: map[string]string{}}
	if _, apollo := top["format"]; apollo {
		docs.Format = FormatApollo
		var m struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Type string `json:"type"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("not an Apollo persisted query manifest: %w", err)
		}
		if m.Format != FormatApollo || m.Version != 1 {
			return nil, fmt.Errorf("format %q version %d: want %q version 1", m.Format, m.Version, FormatApollo)
		}
		for i, op := range m.Operations {
			if err := docs.add(op.ID, op.Body); err != nil {
				return nil, fmt.Errorf("operations[%d] (%s): %w", i, op.Name, err)
			}
		}
	} else {
		docs.Format = FormatClientPreset
		ids := make([]string, 0, len(top))
		for id := range top {
			ids = append(ids, id)
		}
		sort.Strings(ids) // the first bad entry is the same one every time
		for _, id := range ids {
			var body string
			if err := json.Unmarshal(top[id], &body); err != nil {
				return nil, fmt.Errorf("entry %q: its document must be a string", id)
			}
			if err := docs.add(id, body); err != nil {
				return nil, fmt.Errorf("entry %q: %w", id, err)
			}
		}
	}
	if len(docs.byID) == 0 {
		return nil, errors.New("the manifest holds no documents")
	}
	return docs, nil
}

func (d *TrustedDocuments) add(id, body string) error {
	id = NormalizeDocumentID(id)
	switch {
	case id == "":
		return errors.New("empty id")
	case strings.TrimSpace(body) == "":
		return errors.New("empty document")
	case IsSHA256(id) && id != SHA256Hex(body):
		return errors.New("the id is a SHA-256 but not the document's: rebuild the manifest")
	}
	if prev, ok := d.byID[id]; ok && prev != body {
		return errors.New("the id is given to two different documents")
	}
	d.byID[id] = body
	d.bodies[body] = id
	return nil
}

// ByID returns the document with the given ID (a "sha256:" prefix and the hex
// digits' case do not matter).
func (d *TrustedDocuments) ByID(id string) (string, bool) {
	body, ok := d.byID[NormalizeDocumentID(id)]
	return body, ok
}

// IDOf returns the ID of the document whose text is exactly body.
func (d *TrustedDocuments) IDOf(body string) (string, bool) {
	id, ok := d.bodies[body]
	return id, ok
}

// Len is how many documents the manifest holds.
func (d *TrustedDocuments) Len() int { return len(d.byID) }

// NormalizeDocumentID drops the "sha256:" prefix the GraphQL-over-HTTP persisted
// documents proposal puts before a hash, and lowercases a SHA-256's hex digits.
func NormalizeDocumentID(id string) string {
	if len(id) > len("sha256:") && strings.EqualFold(id[:len("sha256:")], "sha256:") {
		id = id[len("sha256:"):]
	}
	if IsSHA256(id) {
		return strings.ToLower(id)
	}
	return id
}

// IsSHA256 reports whether s is 64 hex digits.
func IsSHA256(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// SHA256Hex is the lowercase hex SHA-256 of s: a document's APQ hash.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// trimBOM drops a UTF-8 byte order mark some editors write.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) }

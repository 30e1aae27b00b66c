package backup

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// The local store keeps blobs as files under a directory and lets clients move them
// through this server's own signed URLs, BaseURL/blobs/{key}?… (served by
// internal/backup/localhttp). A URL's HMAC-SHA256 signature binds its method, key,
// expiry and, for a PUT, the exact length and SHA-256 of the body; the body is
// written to a temporary file while its digest is computed and renamed into place
// only when both match, so a key never holds a partial or different blob.

// Errors of a signed blob request, which the HTTP handler maps to statuses.
var (
	ErrBadSignature = errors.New("backup: the URL's signature is missing or wrong")
	ErrURLExpired   = errors.New("backup: the URL has expired")
	ErrWrongLength  = errors.New("backup: the body's length is not the one signed")
	ErrWrongDigest  = errors.New("backup: the body's SHA-256 is not the one signed")
)

// DigestHeader is the header a PUT to the local store carries: RFC 9530's
// Content-Digest with the body's SHA-256.
const DigestHeader = "Content-Digest"

// BlobPathPrefix is where the server mounts the local store's signed URLs.
const BlobPathPrefix = "/blobs/"

// URL query parameters of a signed blob URL.
const (
	paramExpires   = "expires"
	paramSize      = "size"
	paramSHA256    = "sha256"
	paramSignature = "signature"
)

// LocalConfig configures a LocalStore.
type LocalConfig struct {
	// Dir holds the blobs, one file per key ({userID}/{timestamp}).
	Dir string
	// BaseURL is where clients reach this server, e.g. https://api.example.com.
	BaseURL string
	// SigningKey signs the URLs (at least 32 bytes); every instance serving the
	// same directory needs the same key.
	SigningKey []byte
	// Now is the clock of signing and checking expiry; time.Now when nil.
	Now func() time.Time
}

// LocalStore is the embedded default BlobStore.
type LocalStore struct {
	dir     string
	baseURL string
	key     []byte
	now     func() time.Time
}

var _ BlobStore = (*LocalStore)(nil)

// NewLocalStore returns a store over cfg.Dir, creating it (mode 0700) if needed.
func NewLocalStore(cfg LocalConfig) (*LocalStore, error) {
	if len(cfg.SigningKey) < 32 {
		return nil, errors.New("backup: the local store's signing key must be at least 32 bytes")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("backup: the local store's base URL must be an http(s) URL, got %q", cfg.BaseURL)
	}
	if cfg.Dir == "" {
		return nil, errors.New("backup: the local store needs a directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &LocalStore{dir: dir, baseURL: strings.TrimRight(cfg.BaseURL, "/"), key: cfg.SigningKey, now: cfg.Now}, nil
}

// Dir is the directory the blobs live in.
func (s *LocalStore) Dir() string { return s.dir }

// PresignPut implements BlobStore.
func (s *LocalStore) PresignPut(_ context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error) {
	if !validKey(key) || size < 0 || len(sum) != sha256.Size {
		return nil, fmt.Errorf("backup: cannot sign a PUT of %q", key)
	}
	exp := s.now().Add(ttl).Truncate(time.Second)
	return &models.SignedRequest{
		Method:    "PUT",
		URL:       s.signedURL("PUT", key, exp, strconv.FormatInt(size, 10), hex.EncodeToString(sum)),
		ExpiresAt: exp.UTC(),
		Headers: []*models.HTTPHeader{
			{Name: "Content-Length", Value: strconv.FormatInt(size, 10)},
			{Name: DigestHeader, Value: contentDigest(sum)},
		},
	}, nil
}

// PresignGet implements BlobStore.
func (s *LocalStore) PresignGet(_ context.Context, key string, ttl time.Duration) (*models.SignedRequest, error) {
	if !validKey(key) {
		return nil, fmt.Errorf("backup: cannot sign a GET of %q", key)
	}
	exp := s.now().Add(ttl).Truncate(time.Second)
	return &models.SignedRequest{Method: "GET", URL: s.signedURL("GET", key, exp, "", ""), ExpiresAt: exp.UTC(),
		Headers: []*models.HTTPHeader{}}, nil
}

func (s *LocalStore) signedURL(method, key string, exp time.Time, size, sum string) string {
	q := url.Values{}
	q.Set(paramExpires, strconv.FormatInt(exp.Unix(), 10))
	if method == "PUT" {
		q.Set(paramSize, size)
		q.Set(paramSHA256, sum)
	}
	q.Set(paramSignature, hex.EncodeToString(s.sign(method, key, q.Get(paramExpires), size, sum)))
	return s.baseURL + BlobPathPrefix + key + "?" + q.Encode()
}

func (s *LocalStore) sign(method, key, exp, size, sum string) []byte {
	m := hmac.New(sha256.New, s.key)
	// Newlines cannot occur in any part, so the message is unambiguous.
	_, _ = io.WriteString(m, "inkgraph-blob-v1\n"+method+"\n"+key+"\n"+exp+"\n"+size+"\n"+sum)
	return m.Sum(nil)
}

func contentDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// Grant is what a verified signed PUT allows: exactly Size bytes with this SHA256.
type Grant struct {
	Size   int64
	SHA256 []byte
}

// Authorize checks a signed URL's query for method on key: the signature, then
// the expiry. For a PUT it returns what the body must be.
func (s *LocalStore) Authorize(method, key string, q url.Values) (Grant, error) {
	if !validKey(key) || (method != "PUT" && method != "GET") {
		return Grant{}, ErrBadSignature
	}
	exp, size, sum := q.Get(paramExpires), "", ""
	if method == "PUT" {
		size, sum = q.Get(paramSize), q.Get(paramSHA256)
	}
	got, err := hex.DecodeString(q.Get(paramSignature))
	if err != nil || !hmac.Equal(got, s.sign(method, key, exp, size, sum)) {
		return Grant{}, ErrBadSignature
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return Grant{}, ErrBadSignature
	}
	if !s.now().Before(time.Unix(unix, 0)) {
		return Grant{}, ErrURLExpired
	}
	if method == "GET" {
		return Grant{}, nil
	}
	g := Grant{}
	if g.Size, err = strconv.ParseInt(size, 10, 64); err != nil {
		return Grant{}, ErrBadSignature
	}
	if g.SHA256, err = hex.DecodeString(sum); err != nil || len(g.SHA256) != sha256.Size {
		return Grant{}, ErrBadSignature
	}
	return g, nil
}

// Receive stores body under key when it is what g allows: contentLength (-1 when
// unknown) and the digest header must be the signed ones, and the body must have
// that length and SHA-256. Nothing is stored otherwise.
func (s *LocalStore) Receive(key string, g Grant, contentLength int64, digest string, body io.Reader) error {
	if !validKey(key) {
		return ErrBadSignature
	}
	if contentLength != g.Size {
		return ErrWrongLength
	}
	if digest != contentDigest(g.SHA256) {
		return ErrWrongDigest
	}
	final := s.path(key)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	// Temporary names start with a dot, which no key segment the server builds does.
	tmp, err := os.CreateTemp(filepath.Dir(final), ".upload-*")
	if err != nil {
		return fmt.Errorf("backup temporary file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, g.Size+1))
	if err != nil {
		return fmt.Errorf("backup: read the body: %w", err)
	}
	if n != g.Size {
		return ErrWrongLength
	}
	if !bytes.Equal(h.Sum(nil), g.SHA256) {
		return ErrWrongDigest
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: write the blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: write the blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("backup: store the blob: %w", err)
	}
	done = true
	return nil
}

// Put implements BlobStore: the file is written as an upload of exactly data is.
func (s *LocalStore) Put(_ context.Context, key string, data []byte) error {
	if !validKey(key) {
		return fmt.Errorf("backup: cannot put %q", key)
	}
	sum := sha256.Sum256(data)
	g := Grant{Size: int64(len(data)), SHA256: sum[:]}
	return s.Receive(key, g, g.Size, contentDigest(g.SHA256), bytes.NewReader(data))
}

// Read implements BlobStore.
func (s *LocalStore) Read(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := s.Open(key)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

// Open returns the blob at key for reading, ErrObjectNotFound when there is none.
func (s *LocalStore) Open(key string) (*os.File, error) {
	if !validKey(key) {
		return nil, ErrObjectNotFound
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrObjectNotFound
	}
	return f, err
}

// Stat implements BlobStore. It reads the whole file to hash it: the digest was
// checked on the way in, and this checks what is on disk now.
func (s *LocalStore) Stat(_ context.Context, key string) (ObjectInfo, error) {
	f, err := s.Open(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("backup: read the blob: %w", err)
	}
	return ObjectInfo{Size: n, SHA256: h.Sum(nil)}, nil
}

// Delete implements BlobStore.
func (s *LocalStore) Delete(_ context.Context, key string) error {
	if !validKey(key) {
		return fmt.Errorf("backup: cannot delete %q", key)
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: delete the blob: %w", err)
	}
	// The user's directory stays: removing it could race an upload creating a file in it.
	return nil
}

// path is the file of a valid key, always inside the store's directory.
func (s *LocalStore) path(key string) string { return filepath.Join(s.dir, filepath.FromSlash(key)) }

package backup

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// BlobStore keeps backup blobs. Clients move the bytes themselves through signed
// requests; the server only signs, checks and deletes. S3Store and LocalStore
// implement it, and blobstore_test.go holds the contract both pass.
type BlobStore interface {
	// PresignPut returns a PUT request, valid for ttl, that stores exactly size bytes
	// whose SHA-256 is sum under key; the store refuses any other length or content.
	PresignPut(ctx context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error)
	// PresignGet returns a GET request, valid for ttl, that reads the object at key.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (*models.SignedRequest, error)
	// Stat returns the size and SHA-256 of the object at key, ErrObjectNotFound
	// when there is none.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object at key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// Put stores data under key: the server's own write, not a client's upload.
	Put(ctx context.Context, key string, data []byte) error
	// Read opens the object at key for the server's own read, ErrObjectNotFound
	// when there is none. The caller closes it.
	Read(ctx context.Context, key string) (io.ReadCloser, error)
}

// ObjectInfo is what Stat reports of an object.
type ObjectInfo struct {
	Size   int64
	SHA256 []byte
}

// ErrObjectNotFound is Stat's answer for a key without an object.
var ErrObjectNotFound = errors.New("backup: no object at this key")

// validKey reports whether key is one the server builds: segments of letters,
// digits, '-', '_' and '.', none of them empty, "." or "..", joined by single
// slashes. Stores check it again, so a key can never leave its prefix or directory.
func validKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, r := range seg {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			default:
				return false
			}
		}
	}
	return true
}

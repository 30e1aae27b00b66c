package models

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// BackupStatus is where a backup's upload stands.
type BackupStatus string

const (
	// BackupPending: an upload URL was issued and the upload not completed yet.
	BackupPending BackupStatus = "PENDING"
	// BackupCompleted: the object was found with the declared size and checksum.
	BackupCompleted BackupStatus = "COMPLETED"
	// BackupFailed: completing found the object missing, different from what was
	// declared, or over the quota; its object is deleted.
	BackupFailed BackupStatus = "FAILED"
)

// Valid reports whether s is a known status.
func (s BackupStatus) Valid() bool {
	return s == BackupPending || s == BackupCompleted || s == BackupFailed
}

// MarshalGQL writes the status as its GraphQL enum value.
func (s BackupStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *BackupStatus) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok || !BackupStatus(str).Valid() {
		return fmt.Errorf("%v is not a BackupStatus", v)
	}
	*s = BackupStatus(str)
	return nil
}

// BackupRecord is one opaque (client-encrypted) blob of a user's local data, as
// stored in the blob store under ObjectKey, which the server alone builds
// ({userID}/{unix ms}). GraphQL calls it Backup (models.Backup is the feature).
type BackupRecord struct {
	bun.BaseModel `bun:"table:backups"`

	ID     string `bun:"id,pk"`
	UserID string `bun:"user_id,notnull"`
	// Version is the client's format version of the blob.
	Version int `bun:"version,notnull"`
	// Timestamp is when the client took the backup (to the millisecond, UTC).
	Timestamp time.Time `bun:"taken_at,notnull"`
	SizeBytes int64     `bun:"size_bytes,notnull"`
	// Checksum is the SHA-256 of the blob, 64 lowercase hex digits.
	Checksum  string       `bun:"checksum,notnull"`
	ObjectKey string       `bun:"object_key,notnull"`
	Status    BackupStatus `bun:"status,notnull"`
	// FailureReason says why a FAILED backup failed; empty otherwise.
	FailureReason string    `bun:"failure_reason,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	// UploadExpiresAt is when the upload URL stops working.
	UploadExpiresAt time.Time  `bun:"upload_expires_at,notnull"`
	CompletedAt     *time.Time `bun:"completed_at"`
}

// BackupUploadInput is what a client declares before uploading a backup.
type BackupUploadInput struct {
	Version int
	// Timestamp is an RFC 3339 date-time; it is kept to the millisecond.
	Timestamp string
	// Checksum is the SHA-256 of the blob as 64 hex digits.
	Checksum  string
	SizeBytes int64
}

// HTTPHeader is one header a client must send with a signed request.
type HTTPHeader struct {
	Name  string
	Value string
}

// SignedRequest is a request a client makes to the blob store directly: a presigned
// S3 URL, or one of this server's own signed /blobs URLs.
type SignedRequest struct {
	Method    string
	URL       string
	Headers   []*HTTPHeader
	ExpiresAt time.Time
}

// BackupUpload is a backup waiting for its blob and where to PUT it.
type BackupUpload struct {
	Backup *BackupRecord
	SignedRequest
}

// BackupEdge is a backup with the cursor that continues after it.
type BackupEdge struct {
	Cursor string
	Node   *BackupRecord
}

// BackupConnection is one page of a user's backups, newest timestamp first.
type BackupConnection struct {
	Edges    []*BackupEdge
	PageInfo PageInfo
}

// BackupUsage is how much of the backup quota a user uses.
type BackupUsage struct {
	// UsedBytes counts completed backups and pending uploads.
	UsedBytes int64
	// LimitBytes is the tier's quota; nil when unlimited.
	LimitBytes *int64
	Tier       Tier
}

// Quota is what a QUOTA_EXCEEDED error reports: how much is used (counting what
// was asked for) against the limit, in the quota's unit.
type Quota struct {
	Used  int64
	Limit int64
}

// FormatBytes writes a byte count for people, in binary units: "512 bytes",
// "1.5 KiB", "5.0 GiB".
func FormatBytes(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

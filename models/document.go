package models

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// DocumentSource is where a document's bytes came from.
type DocumentSource string

const (
	// DocumentFromUpload: the client uploaded the file through a signed URL.
	DocumentFromUpload DocumentSource = "UPLOAD"
	// DocumentFromURL: the server fetched it from a public web address.
	DocumentFromURL DocumentSource = "URL"
)

// MarshalGQL writes the source as its GraphQL enum value.
func (s DocumentSource) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *DocumentSource) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok || (str != string(DocumentFromUpload) && str != string(DocumentFromURL)) {
		return fmt.Errorf("%v is not a DocumentSource", v)
	}
	*s = DocumentSource(str)
	return nil
}

// DocumentState is where a document's ingestion stands.
type DocumentState string

const (
	// DocumentUploading: an upload URL was issued; completeDocumentUpload not called yet.
	DocumentUploading DocumentState = "UPLOADING"
	// DocumentQueued: waiting for a worker.
	DocumentQueued DocumentState = "QUEUED"
	// DocumentExtracting: a worker reads its text and splits it into chunks.
	DocumentExtracting DocumentState = "EXTRACTING"
	// DocumentEmbedding: a worker computes the chunks' embeddings.
	DocumentEmbedding DocumentState = "EMBEDDING"
	// DocumentReady: its chunks are searchable.
	DocumentReady DocumentState = "READY"
	// DocumentFailed: ingestion failed; Error says why.
	DocumentFailed DocumentState = "FAILED"
)

// Valid reports whether s is a known state.
func (s DocumentState) Valid() bool {
	switch s {
	case DocumentUploading, DocumentQueued, DocumentExtracting, DocumentEmbedding, DocumentReady, DocumentFailed:
		return true
	}
	return false
}

// Finished reports whether ingestion has nothing more to do.
func (s DocumentState) Finished() bool { return s == DocumentReady || s == DocumentFailed }

// MarshalGQL writes the state as its GraphQL enum value.
func (s DocumentState) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *DocumentState) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok || !DocumentState(str).Valid() {
		return fmt.Errorf("%v is not a DocumentState", v)
	}
	*s = DocumentState(str)
	return nil
}

// Document is one of a user's knowledge documents: its bytes live in the blob store
// under BlobKey, its text in chunks (DocumentChunk).
type Document struct {
	bun.BaseModel `bun:"table:documents"`

	ID        string         `bun:"id,pk"`
	UserID    string         `bun:"user_id,notnull"`
	Title     string         `bun:"title,notnull"`
	Source    DocumentSource `bun:"source,notnull"`
	SourceURL string         `bun:"source_url,notnull"`
	MediaType string         `bun:"media_type,notnull"`
	SizeBytes int64          `bun:"size_bytes,notnull"`
	// Checksum is the SHA-256 of the bytes, 64 lowercase hex digits.
	Checksum string        `bun:"checksum,notnull"`
	BlobKey  string        `bun:"blob_key,notnull"`
	State    DocumentState `bun:"state,notnull"`
	// Error says why a FAILED document failed; empty otherwise.
	Error string `bun:"error,notnull"`
	// Embedder labels the embedder of its chunks' vectors ("offline" for the
	// built-in one); empty until embedded.
	Embedder   string `bun:"embedder,notnull"`
	Dimensions int    `bun:"dimensions,notnull"`
	ChunkCount int    `bun:"chunk_count,notnull"`
	TextBytes  int64  `bun:"text_bytes,notnull"`
	// Tags are read from document_tags, sorted.
	Tags            []string   `bun:"-"`
	CreatedAt       time.Time  `bun:"created_at,notnull"`
	UpdatedAt       time.Time  `bun:"updated_at,notnull"`
	UploadExpiresAt *time.Time `bun:"upload_expires_at"`
	IngestedAt      *time.Time `bun:"ingested_at"`
}

// SourceURLOrNil is SourceURL for GraphQL: null for an upload.
func (d *Document) SourceURLOrNil() *string {
	if d.SourceURL == "" {
		return nil
	}
	return &d.SourceURL
}

// DocumentUpload is a document waiting for its bytes and where to PUT them.
type DocumentUpload struct {
	Document *Document
	SignedRequest
}

// DocumentEdge is one document of a page, with its cursor.
type DocumentEdge struct {
	Cursor string
	Node   *Document
}

// DocumentConnection is a page of a user's documents, newest first.
type DocumentConnection struct {
	Edges    []*DocumentEdge
	PageInfo PageInfo
}

// AddDocumentInput declares a file before its upload.
type AddDocumentInput struct {
	Title     string
	MediaType string
	SizeBytes int64
	Checksum  string
	Tags      []string
}

// AddDocumentFromURLInput names a web address to fetch and ingest.
type AddDocumentFromURLInput struct {
	URL   string
	Title *string
	Tags  []string
}

// DocumentIngestion is one step of a document's ingestion, as documentIngestion
// streams it: the state, and for EMBEDDING how many of the chunks are embedded.
type DocumentIngestion struct {
	DocumentID string        `json:"documentId"`
	State      DocumentState `json:"state"`
	Done       int           `json:"done"`
	Total      int           `json:"total"`
	Error      string        `json:"error,omitempty"`
}

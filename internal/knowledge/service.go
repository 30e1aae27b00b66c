// Package knowledge owns users' documents and searching them: a document arrives by
// a signed upload to the blob store or from a public web address (through the
// website fetcher's address guard and limits), and an ingestion job, kept in the
// database and claimed by a worker on any instance with a lease, extracts its text
// (internal/knowledge/extract), splits it into chunks along headings and paragraphs
// with overlap, and embeds them (internal/knowledge/embed: an OpenAI-compatible
// endpoint, or the deterministic offline embedder, labelled "offline" wherever its
// results show). Its progress travels on the events bus, so any instance can stream
// it. Search fuses full-text ranking (PostgreSQL tsvector, SQLite FTS5) and vector
// similarity by reciprocal rank. Everything is scoped to the document's owner; tier
// quotas bound documents and bytes. The area imports no other: the blob store,
// fetcher, tiers and bus are interfaces internal/app fills.
package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/net/html/charset"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Tiers tells a user's tier, which sets the knowledge quota (models.FeaturesOf).
type Tiers interface {
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Events is the bus ingestion progress travels on, across instances.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

// Embedder turns texts into vectors (internal/knowledge/embed satisfies it). Name
// labels its results ("offline" for the built-in one).
type Embedder interface {
	Name() string
	Dimensions() int
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Blobs keeps documents' bytes: the backup blob store, under a prefix of its own.
// Keys are built by the service alone.
type Blobs interface {
	// PresignPut returns a PUT request, valid for ttl, that stores exactly size bytes
	// whose SHA-256 is sum under key.
	PresignPut(ctx context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error)
	// Put stores data under key (the server's own write, for fetched pages).
	Put(ctx context.Context, key string, data []byte) error
	// Get reads the object at key, refusing more than limit bytes; ErrBlobNotFound
	// when there is none.
	Get(ctx context.Context, key string, limit int64) ([]byte, error)
	// Delete removes the object at key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrBlobNotFound is Blobs.Get's answer for a key without an object.
var ErrBlobNotFound = errors.New("knowledge: no object at this key")

// Fetched is what a Fetcher read from a web address.
type Fetched struct {
	// URL is the address after redirects.
	URL       string
	MediaType string
	Body      []byte
}

// Fetcher GETs a public web address within its limits. Errors are *models.Error on
// field "url" (a private address, a refused redirect, too large, unreachable).
type Fetcher interface {
	Fetch(ctx context.Context, rawURL string) (*Fetched, error)
}

// Config is the knowledge area's configuration.
type Config struct {
	// MaxFileBytes is the largest document; 20 MiB when 0.
	MaxFileBytes int64
	// URLTTL is how long a signed upload request works; 15 minutes when 0.
	URLTTL time.Duration
	// ChunkBytes and OverlapBytes size the chunks; 1200 and 150 when 0.
	ChunkBytes   int
	OverlapBytes int
	// Lease is how long a worker holds a job without a heartbeat (one comes every
	// third of it while the job runs, and after each batch of embeddings); 2 minutes
	// when 0.
	Lease time.Duration
	// Poll is how often an idle worker looks for jobs queued on other instances
	// (it is woken at once for its own and, through the bus, others'); 10 s when 0.
	Poll time.Duration
	// MaxAttempts is how many times a job is tried before it fails; 3 when 0.
	MaxAttempts int
	// EmbedBatch is how many chunks go to the embedder at once; 32 when 0.
	EmbedBatch int
	// VectorCacheBytes bounds the memory of the vectors this instance keeps for
	// search (chunks × dimensions × 4 bytes), all users together; 256 MiB when 0
	// (DefaultVectorCacheBytes), negative for no cache.
	VectorCacheBytes int64
}

// Deps are what the service is built from besides its Config.
type Deps struct {
	DB       bun.IDB
	Blobs    Blobs
	Fetcher  Fetcher
	Tiers    Tiers
	Events   Events
	Embedder Embedder
	Logger   *slog.Logger
	Now      func() time.Time
	// Index ranks chunks by vector similarity; an exact cosine scan over a per-user
	// in-memory cache when nil.
	Index VectorIndex
}

// Service implements the knowledge area.
type Service struct {
	cfg      Config
	db       bun.IDB
	blobs    Blobs
	fetcher  Fetcher
	tiers    Tiers
	events   Events
	embedder Embedder
	index    VectorIndex
	logger   *slog.Logger
	clock    func() time.Time
	// instance names this process's leases.
	instance string
	// wake tells this instance's worker a job was queued.
	wake chan struct{}
}

const (
	defaultPage   = 20
	maxPage       = 100
	maxTitle      = 200
	maxTags       = 20
	maxTag        = 40
	maxQuery      = 1000
	maxFirst      = 50
	defaultSearch = 5
	jobsTopic     = "knowledge.jobs"
)

// DefaultVectorCacheBytes is the vector cache's size when Config leaves it 0: 256 MiB,
// 175,000 chunks of 384 dimensions or 43,000 of 1536.
const DefaultVectorCacheBytes = 256 << 20

// NewService returns the knowledge service.
func NewService(cfg Config, d Deps) (*Service, error) {
	if d.DB == nil || d.Blobs == nil || d.Tiers == nil || d.Events == nil || d.Embedder == nil {
		return nil, errors.New("knowledge: DB, Blobs, Tiers, Events and Embedder are required")
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = 20 << 20
	}
	if cfg.URLTTL == 0 {
		cfg.URLTTL = 15 * time.Minute
	}
	if cfg.ChunkBytes == 0 {
		cfg.ChunkBytes = 1200
	}
	if cfg.OverlapBytes == 0 {
		cfg.OverlapBytes = 150
	}
	if cfg.Lease == 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.EmbedBatch == 0 {
		cfg.EmbedBatch = 32
	}
	if cfg.VectorCacheBytes == 0 {
		cfg.VectorCacheBytes = DefaultVectorCacheBytes
	}
	if cfg.OverlapBytes >= cfg.ChunkBytes {
		return nil, fmt.Errorf("knowledge: the overlap (%d bytes) must be smaller than a chunk (%d bytes)", cfg.OverlapBytes, cfg.ChunkBytes)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Index == nil {
		d.Index = NewExactIndex(cfg.VectorCacheBytes)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg: cfg, db: d.DB, blobs: d.Blobs, fetcher: d.Fetcher, tiers: d.Tiers, events: d.Events, embedder: d.Embedder,
		index: d.Index, logger: d.Logger, clock: d.Now, instance: id.String(), wake: make(chan struct{}, 1),
	}, nil
}

// now is the clock in UTC, to the microsecond: what both dialects store unchanged.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// --- input ---

// parseID reads a document ID; anything but a UUID is NOT_FOUND, as an ID naming no
// document of the caller's is.
func parseID(id, field string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", notFound(field)
	}
	return u.String(), nil
}

func notFound(field string) error {
	return &models.Error{Code: models.CodeNotFound, Field: field, Message: "no such document"}
}

// cleanTitle trims a title and checks its length and characters.
func cleanTitle(title, field string) (string, error) {
	title = strings.Join(strings.Fields(title), " ")
	if title == "" || utf8.RuneCountInString(title) > maxTitle {
		return "", models.InvalidInput(field, "a title must have 1 to %d characters", maxTitle)
	}
	if !printable(title) {
		return "", models.InvalidInput(field, "a title may not contain control characters")
	}
	return title, nil
}

// printable reports whether s is valid UTF-8 without control characters (NUL,
// which PostgreSQL refuses in text, among them); whitespace is folded before.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// stripControls removes control characters and invalid bytes from a text the
// server read (a page's title), rather than refusing it.
func stripControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && !unicode.IsSpace(r)) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// cleanTags trims tags, drops duplicates and sorts them.
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.Join(strings.Fields(t), " ")
		if t == "" || utf8.RuneCountInString(t) > maxTag {
			return nil, models.InvalidInput("tags", "a tag must have 1 to %d characters", maxTag)
		}
		if !printable(t) {
			return nil, models.InvalidInput("tags", "a tag may not contain control characters")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, models.InvalidInput("tags", "a document may have at most %d tags", maxTags)
	}
	slices.Sort(out)
	return out, nil
}

// mediaType reads a media type, lowercase without parameters, and checks the
// extractor reads it.
func mediaType(raw, field string) (string, error) {
	mt, _, err := mime.ParseMediaType(raw)
	if err != nil {
		return "", models.InvalidInput(field, "%q is not a media type such as text/markdown", raw)
	}
	if !supported(mt) {
		return "", models.InvalidInput(field, "%s documents are not supported: upload text, Markdown, HTML or PDF", mt)
	}
	return mt, nil
}

// blobKey is where a document's bytes live, built by the server alone.
func blobKey(userID, docID string) string { return userID + "/" + docID }

// --- quota ---

// checkQuota refuses one more document of size bytes when the user's documents
// (uploads whose URL expired excepted) would pass the tier's quota. Run it under the
// user's lock, with the tier read before the transaction (the tier lookup has its
// own connection, and SQLite has one).
func (s *Service) checkQuota(ctx context.Context, tx bun.IDB, userID string, tier models.Tier, size int64) error {
	f := models.FeaturesOf(tier)
	count, used, err := usage(ctx, tx, userID, s.now())
	if err != nil {
		return err
	}
	if f.KnowledgeDocuments != models.Unlimited && count+1 > f.KnowledgeDocuments {
		return &models.Error{Code: models.CodeQuotaExceeded, Field: "documents",
			Message: fmt.Sprintf("the %s tier keeps at most %d documents: delete some or upgrade", strings.ToUpper(string(tier)), f.KnowledgeDocuments),
			Quota:   &models.Quota{Used: int64(count + 1), Limit: int64(f.KnowledgeDocuments)}}
	}
	if f.KnowledgeBytes != models.Unlimited && used+size > f.KnowledgeBytes {
		return &models.Error{Code: models.CodeQuotaExceeded, Field: "sizeBytes",
			Message: fmt.Sprintf("this document (%s) would bring your documents to %s, over the %s tier's %s: delete some or upgrade",
				models.FormatBytes(size), models.FormatBytes(used+size), strings.ToUpper(string(tier)), models.FormatBytes(f.KnowledgeBytes)),
			Quota: &models.Quota{Used: used + size, Limit: f.KnowledgeBytes}}
	}
	return nil
}

// --- adding ---

// AddDocument records a document to upload and returns the signed PUT that uploads
// it; completeDocumentUpload then starts its ingestion. BAD_USER_INPUT (with field)
// for a bad title, tag, media type, size or checksum; QUOTA_EXCEEDED when it would
// not fit the tier's quota.
func (s *Service) AddDocument(ctx context.Context, userID string, in models.AddDocumentInput) (*models.DocumentUpload, error) {
	title, err := cleanTitle(in.Title, "title")
	if err != nil {
		return nil, err
	}
	tags, err := cleanTags(in.Tags)
	if err != nil {
		return nil, err
	}
	mt, err := mediaType(in.MediaType, "mediaType")
	if err != nil {
		return nil, err
	}
	if in.SizeBytes < 1 || in.SizeBytes > s.cfg.MaxFileBytes {
		return nil, models.InvalidInput("sizeBytes", "a document must have 1 byte to %s, this one has %d bytes",
			models.FormatBytes(s.cfg.MaxFileBytes), in.SizeBytes)
	}
	sum, err := hex.DecodeString(in.Checksum)
	if err != nil || len(sum) != sha256.Size {
		return nil, models.InvalidInput("checksum", "checksum must be the file's SHA-256 as 64 hex digits")
	}
	now := s.now()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, models.Internal(err, "new id")
	}
	expires := now.Add(s.cfg.URLTTL)
	doc := &models.Document{
		ID: id.String(), UserID: userID, Title: title, Source: models.DocumentFromUpload, MediaType: mt,
		SizeBytes: in.SizeBytes, Checksum: hex.EncodeToString(sum), BlobKey: blobKey(userID, id.String()),
		State: models.DocumentUploading, Tags: tags, CreatedAt: now, UpdatedAt: now, UploadExpiresAt: &expires,
	}
	tier, err := s.tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, userID, tier, doc.SizeBytes); err != nil {
			return err
		}
		return insertDocument(ctx, tx, doc)
	})
	if err != nil {
		return nil, err
	}
	req, err := s.blobs.PresignPut(ctx, doc.BlobKey, doc.SizeBytes, sum, s.cfg.URLTTL)
	if err != nil {
		if derr := deleteDocumentRow(context.WithoutCancel(ctx), s.db, userID, doc.ID); derr != nil {
			s.logger.ErrorContext(ctx, "remove a document whose upload could not be signed", "error", derr, "document_id", doc.ID)
		}
		return nil, models.Internal(err, "sign the upload")
	}
	return &models.DocumentUpload{Document: doc, SignedRequest: *req}, nil
}

// CompleteDocumentUpload checks the uploaded file (its size and SHA-256, and that
// text can be extracted from it) and queues its ingestion. A file that fails the
// checks is removed with its document, whose ID then names nothing: CONFLICT for a
// missing or different file, BAD_USER_INPUT on field "file" for one without text or
// of another type than declared. Completing a document already completed returns it.
func (s *Service) CompleteDocumentUpload(ctx context.Context, userID, id string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	doc, err := s.document(ctx, s.db, userID, id)
	if err != nil {
		return nil, err
	}
	if doc.State != models.DocumentUploading {
		return doc, nil
	}
	if err := s.checkUploadOpen(doc); err != nil {
		return nil, err
	}
	data, err := s.blobs.Get(ctx, doc.BlobKey, doc.SizeBytes)
	var refusal error
	switch {
	case errors.Is(err, ErrBlobNotFound):
		return nil, conflict("id", "no file was uploaded yet: PUT it to the signed URL first")
	case err != nil:
		return nil, models.Internal(err, "read the uploaded file")
	case int64(len(data)) != doc.SizeBytes:
		refusal = conflict("id", "the uploaded file has %d bytes, not the %d declared; add the document again", len(data), doc.SizeBytes)
	default:
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != doc.Checksum {
			refusal = conflict("id", "the uploaded file's SHA-256 is not the declared checksum; add the document again")
		} else if _, err := extractText(data, doc.MediaType); err != nil {
			refusal = extractionError(err, "file")
		}
	}
	if refusal != nil {
		if err := s.remove(ctx, userID, id); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		cur, err := findDocument(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if cur.State != models.DocumentUploading {
			return nil // completed concurrently
		}
		// Checked again under the lock: an upload whose URL expired no longer counts
		// towards the quota, so completing it would bypass the quota.
		if err := s.checkUploadOpen(cur); err != nil {
			return err
		}
		return queue(ctx, tx, cur, s.now())
	})
	if err != nil {
		return nil, err
	}
	s.queued(ctx, userID, id)
	return s.document(ctx, s.db, userID, id)
}

// checkUploadOpen refuses to complete an upload at or after its URL expired
// (CONFLICT, field id): from then on it no longer counts towards the quota, and
// the sweep removes it.
func (s *Service) checkUploadOpen(d *models.Document) error {
	if d.UploadExpiresAt != nil && !s.now().Before(*d.UploadExpiresAt) {
		return conflict("id", "the upload URL expired before the upload was completed; add the document again")
	}
	return nil
}

func conflict(field, format string, args ...any) error {
	return &models.Error{Code: models.CodeConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// extractionError is what a user sees of a file extraction refused, on field.
func extractionError(err error, field string) error {
	var me *models.Error
	if errors.As(err, &me) {
		return &models.Error{Code: me.Code, Field: field, Message: me.Message, Err: err}
	}
	return &models.Error{Code: models.CodeBadUserInput, Field: field, Message: err.Error(), Err: err}
}

// AddDocumentFromURL fetches a public web address (the fetcher refuses private
// addresses and enforces its time and size limits, BAD_USER_INPUT or
// UPSTREAM_UNAVAILABLE on field "url"), keeps what it served and queues its
// ingestion. Nothing is stored when the page cannot be fetched, is of an unsupported
// type or has no text.
func (s *Service) AddDocumentFromURL(ctx context.Context, userID string, in models.AddDocumentFromURLInput) (*models.Document, error) {
	if s.fetcher == nil {
		return nil, models.InvalidInput("url", "this server does not fetch web addresses")
	}
	tags, err := cleanTags(in.Tags)
	if err != nil {
		return nil, err
	}
	title := ""
	if in.Title != nil {
		if title, err = cleanTitle(*in.Title, "title"); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(in.URL) == "" || len(in.URL) > 2048 {
		return nil, models.InvalidInput("url", "enter a web address of up to 2048 characters")
	}
	tier, err := s.tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	// A cheap look at the quota before the fetch; checked again under the lock.
	if err := s.checkQuota(ctx, s.db, userID, tier, 1); err != nil {
		return nil, err
	}
	page, err := s.fetcher.Fetch(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	mt, err := mediaType(page.MediaType, "url")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(mt, "text/") {
		// Kept as UTF-8, which is what extraction reads.
		page.Body = toUTF8(page.Body, page.MediaType)
	}
	if int64(len(page.Body)) > s.cfg.MaxFileBytes {
		return nil, models.InvalidInput("url", "the page is larger than %s", models.FormatBytes(s.cfg.MaxFileBytes))
	}
	text, err := extractText(page.Body, mt)
	if err != nil {
		return nil, extractionError(err, "url")
	}
	if title == "" {
		if title, err = cleanTitle(stripControls(text.Title), "title"); err != nil {
			title = stripControls(page.URL)
			if utf8.RuneCountInString(title) > maxTitle {
				title = string([]rune(title)[:maxTitle])
			}
		}
	}
	now := s.now()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, models.Internal(err, "new id")
	}
	sum := sha256.Sum256(page.Body)
	doc := &models.Document{
		ID: id.String(), UserID: userID, Title: title, Source: models.DocumentFromURL, SourceURL: page.URL,
		MediaType: mt, SizeBytes: int64(len(page.Body)), Checksum: hex.EncodeToString(sum[:]),
		BlobKey: blobKey(userID, id.String()), State: models.DocumentQueued, Tags: tags, CreatedAt: now, UpdatedAt: now,
	}
	if doc.SizeBytes == 0 {
		return nil, models.InvalidInput("url", "the page is empty")
	}
	// The bytes first: a row without its blob would be ingested from nothing.
	if err := s.blobs.Put(ctx, doc.BlobKey, page.Body); err != nil {
		return nil, models.Internal(err, "store the fetched page")
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, userID, tier, doc.SizeBytes); err != nil {
			return err
		}
		if err := insertDocument(ctx, tx, doc); err != nil {
			return err
		}
		return queue(ctx, tx, doc, now)
	})
	if err != nil {
		if derr := s.blobs.Delete(context.WithoutCancel(ctx), doc.BlobKey); derr != nil {
			s.logger.ErrorContext(ctx, "remove a fetched page whose document was refused", "error", derr, "document_id", doc.ID)
		}
		return nil, err
	}
	s.queued(ctx, userID, doc.ID)
	return s.document(ctx, s.db, userID, doc.ID)
}

// toUTF8 decodes a fetched text body to UTF-8: by the charset its Content-Type or
// a byte order mark declares; else, as browsers do, one valid as UTF-8 is kept and
// another decoded by its HTML <meta> charset, or as windows-1252 without one.
func toUTF8(body []byte, contentType string) []byte {
	enc, _, certain := charset.DetermineEncoding(body, contentType)
	if !certain && utf8.Valid(body) {
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return []byte(strings.ToValidUTF8(string(body), "\uFFFD"))
	}
	return out
}

// queued tells every instance's worker, and the document's followers, that a job
// waits.
func (s *Service) queued(ctx context.Context, userID, docID string) {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if err := s.events.Publish(context.WithoutCancel(ctx), jobsTopic, []byte(docID)); err != nil {
		s.logger.ErrorContext(ctx, "announce an ingestion job", "error", err, "document_id", docID)
	}
	s.publish(ctx, userID, models.DocumentIngestion{DocumentID: docID, State: models.DocumentQueued})
}

// --- reading ---

// document reads one of the user's documents with its tags.
func (s *Service) document(ctx context.Context, db bun.IDB, userID, id string) (*models.Document, error) {
	d, err := findDocument(ctx, db, userID, id)
	if err != nil {
		return nil, err
	}
	if err := loadTags(ctx, db, userID, []*models.Document{d}); err != nil {
		return nil, err
	}
	return d, nil
}

// Document returns one of the user's documents; NOT_FOUND (field id) for anyone else's.
func (s *Service) Document(ctx context.Context, userID, id string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	return s.document(ctx, s.db, userID, id)
}

// Documents returns a page of the user's documents, newest first: first (1 to 100,
// 20 when 0) after the cursor after, only those tagged tag when it is not "".
func (s *Service) Documents(ctx context.Context, userID string, first int, after, tag string) (*models.DocumentConnection, error) {
	switch {
	case first == 0:
		first = defaultPage
	case first < 1 || first > maxPage:
		return nil, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxPage, first)
	}
	if !printable(tag) {
		return nil, models.InvalidInput("tag", "a tag may not contain control characters")
	}
	var cur *cursor
	if after != "" {
		c, err := parseCursor(after)
		if err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this list: pass an edge's cursor or endCursor")
		}
		cur = &c
	}
	rows, err := findDocuments(ctx, s.db, userID, cur, strings.TrimSpace(tag), first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.DocumentConnection{Edges: []*models.DocumentEdge{}, PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	if err := loadTags(ctx, s.db, userID, rows); err != nil {
		return nil, err
	}
	for _, d := range rows {
		conn.Edges = append(conn.Edges, &models.DocumentEdge{Cursor: formatCursor(cursor{At: d.CreatedAt, ID: d.ID}), Node: d})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

// cursor is a position in the documents list: its created_at and ID.
type cursor struct {
	At time.Time
	ID string
}

func formatCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + c.ID))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, err
	}
	us, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return cursor{}, fmt.Errorf("cursor %q has no id", s)
	}
	if _, err := parseID(id, "after"); err != nil {
		return cursor{}, err
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return cursor{}, err
	}
	return cursor{At: time.UnixMicro(n).UTC(), ID: id}, nil
}

// --- changing ---

// RenameDocument sets a document's title.
func (s *Service) RenameDocument(ctx context.Context, userID, id, title string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	if title, err = cleanTitle(title, "title"); err != nil {
		return nil, err
	}
	if err := updateTitle(ctx, s.db, userID, id, title, s.now()); err != nil {
		return nil, err
	}
	return s.document(ctx, s.db, userID, id)
}

// SetDocumentTags replaces a document's tags.
func (s *Service) SetDocumentTags(ctx context.Context, userID, id string, tags []string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	if tags, err = cleanTags(tags); err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		d, err := findDocument(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		d.Tags = tags
		if err := replaceTags(ctx, tx, d); err != nil {
			return err
		}
		return touch(ctx, tx, userID, id, s.now())
	})
	if err != nil {
		return nil, err
	}
	return s.document(ctx, s.db, userID, id)
}

// ReingestDocument queues a READY or FAILED document's ingestion again (after the
// embedder changed, say); its chunks stay searchable until the new ones replace them.
// CONFLICT while it is being uploaded or ingested.
func (s *Service) ReingestDocument(ctx context.Context, userID, id string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		d, err := findDocument(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if !d.State.Finished() {
			return &models.Error{Code: models.CodeConflict, Field: "id",
				Message: fmt.Sprintf("the document is %s: wait until it is ready or failed", strings.ToLower(string(d.State)))}
		}
		return queue(ctx, tx, d, s.now())
	})
	if err != nil {
		return nil, err
	}
	s.queued(ctx, userID, id)
	return s.document(ctx, s.db, userID, id)
}

// DeleteDocument deletes a document: its blob, chunks (embeddings and full-text
// entries with them), tags and job; it returns the document as it was. A worker
// ingesting it finds it gone and stores nothing.
func (s *Service) DeleteDocument(ctx context.Context, userID, id string) (*models.Document, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, userID, id)
	if err != nil {
		return nil, err
	}
	if err := s.remove(ctx, userID, id); err != nil {
		return nil, err
	}
	return d, nil
}

// remove deletes a document and everything of it, the blob first: a row without a
// blob can be deleted again, a blob without a row would be kept forever. A document
// uploaded through a signed PUT that still works is kept, hidden, until the PUT
// expired (state UPLOADING, error deletedMark, no tags, job or chunks): a late PUT
// could store the file again, and the sweep then removes the row and the file. Its
// followers get a last event, FAILED "deleted".
func (s *Service) remove(ctx context.Context, userID, id string) error {
	now := s.now()
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		d, err := findDocument(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if err := s.blobs.Delete(ctx, d.BlobKey); err != nil {
			return models.Internal(err, "delete the document's file")
		}
		hadChunks, err := deleteChunks(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if hadChunks {
			if err := bumpVersion(ctx, tx, userID); err != nil {
				return err
			}
		}
		if until, open := s.putWorks(d, now); open {
			return keepDeleted(ctx, tx, userID, id, until, now)
		}
		return deleteDocumentRow(ctx, tx, userID, id)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, userID, models.DocumentIngestion{DocumentID: id, State: models.DocumentFailed, Error: deletedMark})
	return nil
}

// putWorks tells until when the document's signed PUT works, and whether it still
// does at now (a completed upload's too: the URL outlives the completion).
func (s *Service) putWorks(d *models.Document, now time.Time) (time.Time, bool) {
	if d.Source != models.DocumentFromUpload {
		return time.Time{}, false
	}
	until := d.CreatedAt.Add(s.cfg.URLTTL)
	if d.UploadExpiresAt != nil {
		until = *d.UploadExpiresAt
	}
	return until, now.Before(until)
}

// Sweep removes, an URL lifetime after their upload URL expired, the file and row of
// documents whose upload was never completed, and of deleted documents kept until
// then (a PUT late on its URL may have stored their file again), and the files of
// deleted spaces' documents (ForgetSpace); it returns how many it removed. The worker
// runs it; running it again changes nothing.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	abandoned, err := findAbandoned(ctx, s.db, s.now().Add(-s.cfg.URLTTL), 100)
	if err != nil {
		return 0, err
	}
	n, errs := s.sweepForgotten(ctx)
	for _, d := range abandoned {
		removed, err := s.sweepOne(ctx, d.UserID, d.ID)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("sweep document %s: %w", d.ID, err))
		case removed:
			n++
		}
	}
	return n, errors.Join(errs...)
}

// ForgetSpace notes the files of every document of space for the sweep to delete, in
// db: the transaction that deletes the space (a team's), whose rows go with it. The
// sweep deletes each file at its next run and again at each run until the last
// signed upload URL the space may hold has expired (once more then), so a late PUT is
// deleted too.
//
// It holds the space's lock, which adding a document takes too, so that none is added
// between noting the files and deleting the rows. A space that does not exist has
// nothing to forget.
func (s *Service) ForgetSpace(ctx context.Context, db bun.IDB, space string) error {
	if err := database.LockUser(ctx, db, space); models.ErrorCode(err) == models.CodeNotFound {
		return nil
	} else if err != nil {
		return err
	}
	return forgetBlobs(ctx, db, space, s.now().Add(s.cfg.URLTTL))
}

// sweepForgotten deletes the files ForgetSpace noted: each at its first run, and
// again (then no longer following it) once its keep_until passed, for a late PUT. It
// returns how many it stopped following.
func (s *Service) sweepForgotten(ctx context.Context) (int, []error) {
	now := s.now()
	rows, err := findForgottenBlobs(ctx, s.db, now, 100)
	if err != nil {
		return 0, []error{err}
	}
	n := 0
	var errs []error
	for _, b := range rows {
		if err := s.blobs.Delete(ctx, b.BlobKey); err != nil {
			errs = append(errs, fmt.Errorf("delete a deleted space's file: %w", err))
			continue
		}
		if b.KeepUntil.Before(now) {
			err = dropForgottenBlob(ctx, s.db, b.BlobKey, now)
			if err == nil {
				n++
			}
		} else {
			err = markForgottenBlobDeleted(ctx, s.db, b.BlobKey)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errs
}

// sweepOne removes an abandoned upload or a deleted document kept, file and row,
// unless it was completed meanwhile.
func (s *Service) sweepOne(ctx context.Context, userID, id string) (bool, error) {
	removed, announced := false, false
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		d, err := findDocumentIn(ctx, tx, userID, id, func(q *bun.SelectQuery) *bun.SelectQuery { return q })
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if d.State != models.DocumentUploading {
			return nil // completed meanwhile: not the sweep's
		}
		if err := s.blobs.Delete(ctx, d.BlobKey); err != nil {
			return models.Internal(err, "delete the document's file")
		}
		removed, announced = true, d.Error == deletedMark
		return deleteDocumentRow(ctx, tx, userID, id)
	})
	if err == nil && removed && !announced {
		s.publish(ctx, userID, models.DocumentIngestion{DocumentID: id, State: models.DocumentFailed, Error: deletedMark})
	}
	return removed && err == nil, err
}

// --- progress ---

// ingestionTopic is where a document's progress is published.
func ingestionTopic(docID string) string { return "knowledge.ingestion." + docID }

// publish tells the document's followers, on every instance, where it stands.
func (s *Service) publish(ctx context.Context, userID string, e models.DocumentIngestion) {
	payload, err := json.Marshal(e)
	if err == nil {
		err = s.events.Publish(context.WithoutCancel(ctx), ingestionTopic(e.DocumentID), payload)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "publish ingestion progress", "error", err, "user_id", userID, "document_id", e.DocumentID)
	}
}

// Ingestion streams a document's ingestion from any instance: first where it stands
// now, then each step, until it is READY or FAILED (the last event) or ctx ends.
// NOT_FOUND (field id) for another user's document.
func (s *Service) Ingestion(ctx context.Context, userID, id string) (<-chan *models.DocumentIngestion, error) {
	id, err := parseID(id, "id")
	if err != nil {
		return nil, err
	}
	if _, err := findDocument(ctx, s.db, userID, id); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	// Subscribe before reading the state, so no step falls between the two.
	in, err := s.events.Subscribe(ctx, ingestionTopic(id))
	if err != nil {
		cancel()
		return nil, models.Internal(err, "subscribe to ingestion progress")
	}
	first, err := s.progress(ctx, userID, id)
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan *models.DocumentIngestion, 1)
	go func() {
		defer cancel()
		defer close(out)
		send := func(e *models.DocumentIngestion) bool {
			select {
			case out <- e:
				return !e.State.Finished()
			case <-ctx.Done():
				return false
			}
		}
		if !send(first) {
			return
		}
		last := *first
		for payload := range in {
			e := new(models.DocumentIngestion)
			if err := json.Unmarshal(payload, e); err != nil {
				s.logger.ErrorContext(ctx, "decode ingestion progress", "error", err)
				continue
			}
			if *e == last {
				continue
			}
			last = *e
			if !send(e) {
				return
			}
		}
	}()
	return out, nil
}

// progress reads where a document's ingestion stands.
func (s *Service) progress(ctx context.Context, userID, id string) (*models.DocumentIngestion, error) {
	d, err := findDocument(ctx, s.db, userID, id)
	if err != nil {
		return nil, err
	}
	e := &models.DocumentIngestion{DocumentID: id, State: d.State, Error: d.Error}
	switch d.State {
	case models.DocumentEmbedding:
		j, err := findJob(ctx, s.db, id)
		if err != nil && models.ErrorCode(err) != models.CodeNotFound {
			return nil, err
		}
		if j != nil {
			e.Done, e.Total = j.ProgressDone, j.ProgressTotal
		}
	case models.DocumentReady:
		e.Done, e.Total = d.ChunkCount, d.ChunkCount
	}
	return e, nil
}

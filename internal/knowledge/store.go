package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every function here that reads a user's rows filters by the user's ID; the job
// queue's (claimJob and the job updates, keyed by document) and findAbandoned serve
// the worker, which then reads a document with its owner's ID.

// tagRow is one tag of a document.
type tagRow struct {
	bun.BaseModel `bun:"table:document_tags"`

	DocumentID string `bun:"document_id,pk"`
	UserID     string `bun:"user_id,notnull"`
	Tag        string `bun:"tag,pk"`
}

// chunkRow is one chunk of a document's text with its embedding.
type chunkRow struct {
	bun.BaseModel `bun:"table:document_chunks"`

	ID         int64  `bun:"id,pk,autoincrement"`
	DocumentID string `bun:"document_id,notnull"`
	UserID     string `bun:"user_id,notnull"`
	Position   int    `bun:"position,notnull"`
	Start      int    `bun:"start_offset,notnull"`
	End        int    `bun:"end_offset,notnull"`
	Heading    string `bun:"heading,notnull"`
	Content    string `bun:"content,notnull"`
	Embedding  []byte `bun:"embedding,notnull"`
	Dimensions int    `bun:"dimensions,notnull"`
}

// jobRow is a document's ingestion job.
type jobRow struct {
	bun.BaseModel `bun:"table:ingestion_jobs"`

	DocumentID    string     `bun:"document_id,pk"`
	UserID        string     `bun:"user_id,notnull"`
	State         string     `bun:"state,notnull"`
	Attempts      int        `bun:"attempts,notnull"`
	ProgressDone  int        `bun:"progress_done,notnull"`
	ProgressTotal int        `bun:"progress_total,notnull"`
	LeaseOwner    string     `bun:"lease_owner,notnull"`
	LeaseUntil    *time.Time `bun:"lease_until"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
}

const (
	jobQueued  = "QUEUED"
	jobRunning = "RUNNING"
	jobDone    = "DONE"
	jobFailed  = "FAILED"
)

func inUTC(d *models.Document) *models.Document {
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if d.UploadExpiresAt != nil {
		t := d.UploadExpiresAt.UTC()
		d.UploadExpiresAt = &t
	}
	if d.IngestedAt != nil {
		t := d.IngestedAt.UTC()
		d.IngestedAt = &t
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	return d
}

// deletedMark is the error of a deleted document kept, UPLOADING, until its signed
// PUT expired (see Service.remove): no read but the sweep's sees it.
const deletedMark = "deleted"

// visible leaves out deleted documents kept until their upload URL expired.
func visible(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Where("(state <> ? OR error <> ?)", models.DocumentUploading, deletedMark)
}

// usage counts the user's documents and their bytes, uploads whose URL expired
// before they completed, and deleted documents, excepted.
func usage(ctx context.Context, db bun.IDB, userID string, now time.Time) (count int, bytes int64, err error) {
	var row struct {
		N     int           `bun:"n"`
		Bytes sql.NullInt64 `bun:"bytes"`
	}
	err = db.NewSelect().Model((*models.Document)(nil)).ColumnExpr("COUNT(*) AS n, SUM(size_bytes) AS bytes").
		Where("user_id = ?", userID).
		Where("(state <> ? OR (upload_expires_at > ? AND error <> ?))", models.DocumentUploading, now, deletedMark).
		Scan(ctx, &row)
	if err != nil {
		return 0, 0, fmt.Errorf("count documents: %w", err)
	}
	return row.N, row.Bytes.Int64, nil
}

func insertDocument(ctx context.Context, db bun.IDB, d *models.Document) error {
	if _, err := db.NewInsert().Model(d).Exec(ctx); err != nil {
		return fmt.Errorf("record document: %w", err)
	}
	return replaceTags(ctx, db, d)
}

// replaceTags stores d.Tags as the document's tags.
func replaceTags(ctx context.Context, db bun.IDB, d *models.Document) error {
	if _, err := db.NewDelete().Model((*tagRow)(nil)).Where("document_id = ? AND user_id = ?", d.ID, d.UserID).Exec(ctx); err != nil {
		return fmt.Errorf("clear tags: %w", err)
	}
	if len(d.Tags) == 0 {
		return nil
	}
	rows := make([]tagRow, len(d.Tags))
	for i, t := range d.Tags {
		rows[i] = tagRow{DocumentID: d.ID, UserID: d.UserID, Tag: t}
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("store tags: %w", err)
	}
	return nil
}

// loadTags fills the documents' Tags.
func loadTags(ctx context.Context, db bun.IDB, userID string, docs []*models.Document) error {
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, len(docs))
	byID := make(map[string]*models.Document, len(docs))
	for i, d := range docs {
		ids[i], byID[d.ID] = d.ID, d
		d.Tags = []string{}
	}
	var rows []tagRow
	if err := db.NewSelect().Model(&rows).Where("user_id = ? AND document_id IN (?)", userID, bun.List(ids)).Order("tag").Scan(ctx); err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	for _, r := range rows {
		byID[r.DocumentID].Tags = append(byID[r.DocumentID].Tags, r.Tag)
	}
	return nil
}

// findDocument returns the user's document id, NOT_FOUND (field id) when the user
// has none by that ID (whoever else might).
func findDocument(ctx context.Context, db bun.IDB, userID, id string) (*models.Document, error) {
	return findDocumentIn(ctx, db, userID, id, visible)
}

// findDocumentIn is findDocument narrowed by where (the sweep's sees deleted
// documents kept).
func findDocumentIn(ctx context.Context, db bun.IDB, userID, id string, where func(*bun.SelectQuery) *bun.SelectQuery) (*models.Document, error) {
	d := new(models.Document)
	if err := where(db.NewSelect().Model(d).Where("id = ? AND user_id = ?", id, userID)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("id")
		}
		return nil, fmt.Errorf("read document: %w", err)
	}
	return inUTC(d), nil
}

// findDocuments returns up to limit of the user's documents after cur, newest first,
// those tagged tag only when it is not "".
func findDocuments(ctx context.Context, db bun.IDB, userID string, cur *cursor, tag string, limit int) ([]*models.Document, error) {
	var docs []*models.Document
	q := visible(db.NewSelect().Model(&docs).Where("user_id = ?", userID))
	if cur != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cur.At, cur.At, cur.ID)
	}
	if tag != "" {
		q = q.Where("id IN (SELECT document_id FROM document_tags WHERE user_id = ? AND tag = ?)", userID, tag)
	}
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	for _, d := range docs {
		inUTC(d)
	}
	return docs, nil
}

// documentsOfUser returns which of ids are the user's documents.
func documentsOfUser(ctx context.Context, db bun.IDB, userID string, ids []string) (map[string]bool, error) {
	var found []string
	if err := visible(db.NewSelect().Model((*models.Document)(nil)).Column("id").
		Where("user_id = ? AND id IN (?)", userID, bun.List(ids))).Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// taggedDocuments returns the IDs of the user's documents tagged tag.
func taggedDocuments(ctx context.Context, db bun.IDB, userID, tag string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*tagRow)(nil)).Column("document_id").Where("user_id = ? AND tag = ?", userID, tag).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("read tagged documents: %w", err)
	}
	return ids, nil
}

func updateTitle(ctx context.Context, db bun.IDB, userID, id, title string, now time.Time) error {
	res, err := db.NewUpdate().Model((*models.Document)(nil)).Set("title = ?", title).Set("updated_at = ?", now).
		Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	return oneRow(res, err, "rename document")
}

func touch(ctx context.Context, db bun.IDB, userID, id string, now time.Time) error {
	res, err := db.NewUpdate().Model((*models.Document)(nil)).Set("updated_at = ?", now).
		Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	return oneRow(res, err, "update document")
}

// oneRow turns an update that changed no row into NOT_FOUND.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return notFound("id")
	}
	return nil
}

// keepDeleted turns a deleted document into the row that remembers its blob key
// until its signed PUT expired at until: no tags, job, chunks or error but the mark.
func keepDeleted(ctx context.Context, db bun.IDB, userID, id string, until, now time.Time) error {
	if _, err := db.NewDelete().Model((*tagRow)(nil)).Where("document_id = ? AND user_id = ?", id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("clear tags: %w", err)
	}
	if _, err := db.NewDelete().Model((*jobRow)(nil)).Where("document_id = ? AND user_id = ?", id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("delete the ingestion job: %w", err)
	}
	res, err := db.NewUpdate().Model((*models.Document)(nil)).
		Set("state = ?", models.DocumentUploading).Set("error = ?", deletedMark).Set("upload_expires_at = ?", until).
		Set("embedder = ''").Set("dimensions = 0").Set("chunk_count = 0").Set("text_bytes = 0").Set("ingested_at = NULL").
		Set("updated_at = ?", now).
		Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	return oneRow(res, err, "delete document")
}

func deleteDocumentRow(ctx context.Context, db bun.IDB, userID, id string) error {
	if _, err := db.NewDelete().Model((*models.Document)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	return nil
}

// deleteChunks removes a document's chunks (the FTS5 index follows by trigger, the
// tsvector with its row) and reports whether there were any.
func deleteChunks(ctx context.Context, db bun.IDB, userID, docID string) (bool, error) {
	res, err := db.NewDelete().Model((*chunkRow)(nil)).Where("document_id = ? AND user_id = ?", docID, userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete chunks: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// insertChunks stores chunks in batches small enough for either dialect's limit
// on parameters.
func insertChunks(ctx context.Context, db bun.IDB, chunks []chunkRow) error {
	const batch = 200
	for i := 0; i < len(chunks); i += batch {
		part := chunks[i:min(i+batch, len(chunks))]
		if _, err := db.NewInsert().Model(&part).Exec(ctx); err != nil {
			return fmt.Errorf("store chunks: %w", err)
		}
	}
	return nil
}

// bumpVersion counts a change to the user's chunks, so that cached vectors are read
// again.
func bumpVersion(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.NewRaw(`INSERT INTO knowledge_versions (user_id, version) VALUES (?, 1)
		ON CONFLICT (user_id) DO UPDATE SET version = knowledge_versions.version + 1`, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("count a change to chunks: %w", err)
	}
	return nil
}

// version reads the user's count of changes to chunks, 0 before the first.
func version(ctx context.Context, db bun.IDB, userID string) (int64, error) {
	var v []int64
	if err := db.NewSelect().Table("knowledge_versions").Column("version").Where("user_id = ?", userID).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("read the chunks' version: %w", err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}

// queue sets the document QUEUED and (re)starts its job.
func queue(ctx context.Context, db bun.IDB, d *models.Document, now time.Time) error {
	res, err := db.NewUpdate().Model((*models.Document)(nil)).
		Set("state = ?", models.DocumentQueued).Set("error = ''").Set("updated_at = ?", now).
		Where("id = ? AND user_id = ?", d.ID, d.UserID).Exec(ctx)
	if err := oneRow(res, err, "queue document"); err != nil {
		return err
	}
	_, err = db.NewInsert().Model(&jobRow{DocumentID: d.ID, UserID: d.UserID, State: jobQueued, CreatedAt: now, UpdatedAt: now}).
		On("CONFLICT (document_id) DO UPDATE").
		Set("state = EXCLUDED.state, attempts = 0, progress_done = 0, progress_total = 0, lease_owner = '', lease_until = NULL").
		Set("created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("queue ingestion: %w", err)
	}
	return nil
}

func findJob(ctx context.Context, db bun.IDB, docID string) (*jobRow, error) {
	j := new(jobRow)
	if err := database.NotFound(db.NewSelect().Model(j).Where("document_id = ?", docID).Scan(ctx), "ingestion job"); err != nil {
		return nil, err
	}
	return j, nil
}

// claimJob leases the oldest unfinished job nobody holds (queued, or running with
// an expired lease: its worker stopped) to owner until until, counting an attempt;
// false when there is none. On PostgreSQL concurrent claims skip each other's rows;
// SQLite runs one writer.
func claimJob(ctx context.Context, db bun.IDB, owner string, now, until time.Time) (*jobRow, bool, error) {
	lock := ""
	if !database.IsSQLite(db) {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var jobs []jobRow
	err := db.NewRaw(`UPDATE ingestion_jobs SET state = ?, lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE document_id = (
			SELECT document_id FROM ingestion_jobs
			WHERE state IN (?, ?) AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY created_at LIMIT 1`+lock+`)
		RETURNING *`, jobRunning, owner, until, now, jobQueued, jobRunning, now).Scan(ctx, &jobs)
	if err != nil {
		return nil, false, fmt.Errorf("claim an ingestion job: %w", err)
	}
	if len(jobs) == 0 {
		return nil, false, nil
	}
	return &jobs[0], true, nil
}

// heartbeat extends owner's lease on a job and records its progress; false when the
// lease is no longer owner's (it expired and another worker took the job, or the
// document was deleted or queued again).
func heartbeat(ctx context.Context, db bun.IDB, docID, owner string, done, total int, now, until time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*jobRow)(nil)).
		Set("lease_until = ?", until).Set("progress_done = ?", done).Set("progress_total = ?", total).Set("updated_at = ?", now).
		Where("document_id = ? AND lease_owner = ? AND state = ?", docID, owner, jobRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("extend an ingestion lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// releaseJob gives a running job back to the queue, its interrupted attempt not
// counted, when owner's worker stops before the job ends (the instance shuts down):
// another worker may claim it at once, and restarts do not use up its attempts.
func releaseJob(ctx context.Context, db bun.IDB, docID, owner string, now time.Time) error {
	_, err := db.NewUpdate().Model((*jobRow)(nil)).
		Set("state = ?", jobQueued).Set("lease_owner = ''").Set("lease_until = NULL").
		Set("attempts = attempts - 1").Set("updated_at = ?", now).
		Where("document_id = ? AND lease_owner = ? AND state = ?", docID, owner, jobRunning).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release an ingestion job: %w", err)
	}
	return nil
}

// renewLease extends owner's lease on a running job; false when it is not owner's
// any more.
func renewLease(ctx context.Context, db bun.IDB, docID, owner string, now, until time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*jobRow)(nil)).Set("lease_until = ?", until).Set("updated_at = ?", now).
		Where("document_id = ? AND lease_owner = ? AND state = ?", docID, owner, jobRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("extend an ingestion lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// finishJob marks owner's job done or failed; false when it is not owner's any more.
func finishJob(ctx context.Context, db bun.IDB, docID, owner, state string, now time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*jobRow)(nil)).
		Set("state = ?", state).Set("lease_owner = ''").Set("lease_until = NULL").Set("updated_at = ?", now).
		Where("document_id = ? AND lease_owner = ? AND state = ?", docID, owner, jobRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("finish an ingestion job: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// setState records the document's ingestion state (and error).
func setState(ctx context.Context, db bun.IDB, userID, id string, state models.DocumentState, reason string, now time.Time) error {
	res, err := db.NewUpdate().Model((*models.Document)(nil)).Set("state = ?", state).Set("error = ?", reason).Set("updated_at = ?", now).
		Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	return oneRow(res, err, "record the document's state")
}

// markReady records a finished ingestion.
func markReady(ctx context.Context, db bun.IDB, d *models.Document, embedder string, dims, chunks int, textBytes int64, now time.Time) error {
	res, err := db.NewUpdate().Model((*models.Document)(nil)).
		Set("state = ?", models.DocumentReady).Set("error = ''").Set("embedder = ?", embedder).Set("dimensions = ?", dims).
		Set("chunk_count = ?", chunks).Set("text_bytes = ?", textBytes).Set("ingested_at = ?", now).Set("updated_at = ?", now).
		Set("upload_expires_at = NULL").
		Where("id = ? AND user_id = ?", d.ID, d.UserID).Exec(ctx)
	return oneRow(res, err, "record the ingested document")
}

// findAbandoned lists documents (of any user: the sweep's, never a request's) whose
// upload URL expired before before without the upload being completed.
func findAbandoned(ctx context.Context, db bun.IDB, before time.Time, limit int) ([]*models.Document, error) {
	var docs []*models.Document
	err := db.NewSelect().Model(&docs).Column("id", "user_id").
		Where("state = ? AND upload_expires_at < ?", models.DocumentUploading, before).
		OrderExpr("upload_expires_at").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list abandoned uploads: %w", err)
	}
	return docs, nil
}

// forgetBlobs notes the files of every document of userID (a space about to be
// deleted with its rows) for the sweep to delete until keepUntil.
func forgetBlobs(ctx context.Context, db bun.IDB, userID string, keepUntil time.Time) error {
	_, err := db.NewRaw(`INSERT INTO knowledge_forgotten_blobs (blob_key, keep_until)
		SELECT blob_key, ? FROM documents WHERE user_id = ?
		ON CONFLICT (blob_key) DO UPDATE SET keep_until = excluded.keep_until`, keepUntil.UTC(), userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("forget a space's files: %w", err)
	}
	return nil
}

// forgottenBlob is a file of a deleted space's document, deleted at the sweep's next
// run (DeletedOnce) and again once KeepUntil passed.
type forgottenBlob struct {
	bun.BaseModel `bun:"table:knowledge_forgotten_blobs"`

	BlobKey     string    `bun:"blob_key,pk"`
	KeepUntil   time.Time `bun:"keep_until,notnull"`
	DeletedOnce bool      `bun:"deleted_once,notnull"`
}

// findForgottenBlobs lists up to limit forgotten files the sweep has to delete at
// now: those not yet deleted once, and those whose keep_until passed.
func findForgottenBlobs(ctx context.Context, db bun.IDB, now time.Time, limit int) ([]*forgottenBlob, error) {
	var rows []*forgottenBlob
	err := db.NewSelect().Model(&rows).Where("NOT deleted_once OR keep_until < ?", now.UTC()).
		OrderExpr("keep_until").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list forgotten files: %w", err)
	}
	return rows, nil
}

// markForgottenBlobDeleted notes that the sweep deleted the file once.
func markForgottenBlobDeleted(ctx context.Context, db bun.IDB, key string) error {
	_, err := db.NewUpdate().Model((*forgottenBlob)(nil)).Set("deleted_once = ?", true).Where("blob_key = ?", key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark a forgotten file: %w", err)
	}
	return nil
}

// dropForgottenBlob stops deleting a forgotten file whose keep_until has passed.
func dropForgottenBlob(ctx context.Context, db bun.IDB, key string, before time.Time) error {
	_, err := db.NewDelete().Model((*forgottenBlob)(nil)).Where("blob_key = ? AND keep_until < ?", key, before.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("drop a forgotten file: %w", err)
	}
	return nil
}

// --- search: full text, passages, and the vectors ExactIndex keeps ---

// fullText ranks the user's chunks that contain any of the query's terms: BM25 over
// FTS5 on SQLite, ts_rank over the tsvector on PostgreSQL.
func fullText(ctx context.Context, db bun.IDB, userID, query string, allow map[string]bool, k int) ([]Hit, error) {
	words := terms(query)
	if len(words) == 0 {
		return nil, nil
	}
	var filter string
	args := []any{}
	var sqlText string
	if database.IsSQLite(db) {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = `"` + w + `"`
		}
		sqlText = `SELECT c.id AS chunk_id, c.document_id FROM document_chunks_fts
			JOIN document_chunks c ON c.id = document_chunks_fts.rowid
			WHERE document_chunks_fts MATCH ? AND c.user_id = ?%s
			ORDER BY bm25(document_chunks_fts) LIMIT ?`
		args = append(args, strings.Join(quoted, " OR "), userID)
	} else {
		return fullTextPG(ctx, db, userID, words, allow, k)
	}
	if allow != nil {
		filter = " AND c.document_id IN (?)"
		args = append(args, bun.List(allowedIDs(allow)))
	}
	args = append(args, k)
	var hits []Hit
	if err := db.NewRaw(fmt.Sprintf(sqlText, filter), args...).Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	return hits, nil // in rank order: fuse scores them by rank
}

func allowedIDs(allow map[string]bool) []string {
	ids := make([]string, 0, len(allow))
	for id := range allow {
		ids = append(ids, id)
	}
	return ids
}

// fullTextPG ranks by ts_rank (the query's terms ORed) the chunks that match a
// term, at most termCandidates of them for each term.
func fullTextPG(ctx context.Context, db bun.IDB, userID string, words []string, allow map[string]bool, k int) ([]Hit, error) {
	var filter string
	var filterArgs []any
	if allow != nil {
		filter = " AND document_id IN (?)"
		filterArgs = []any{bun.List(allowedIDs(allow))}
	}
	parts := make([]string, len(words))
	args := []any{strings.Join(words, " | "), userID}
	for i, w := range words {
		parts[i] = `(SELECT id FROM document_chunks WHERE user_id = ? AND tsv @@ to_tsquery('english', ?)` + filter + ` LIMIT ?)`
		args = append(args, userID, w)
		args = append(args, filterArgs...)
		args = append(args, termCandidates)
	}
	args = append(args, k)
	sqlText := `SELECT c.id AS chunk_id, c.document_id FROM document_chunks c, to_tsquery('english', ?) q
		WHERE c.user_id = ? AND c.id IN (` + strings.Join(parts, " UNION ") + `)
		ORDER BY ts_rank(c.tsv, q) DESC, c.id LIMIT ?`
	var hits []Hit
	if err := db.NewRaw(sqlText, args...).Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	return hits, nil // in rank order: fuse scores them by rank
}

// passages reads the hits' chunks, in the hits' order, as passages.
func passages(ctx context.Context, db bun.IDB, userID string, hits []Hit) ([]*models.Passage, error) {
	out := []*models.Passage{}
	if len(hits) == 0 {
		return out, nil
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ChunkID
	}
	var rows []struct {
		ID         int64  `bun:"id"`
		DocumentID string `bun:"document_id"`
		Position   int    `bun:"position"`
		Start      int    `bun:"start_offset"`
		End        int    `bun:"end_offset"`
		Content    string `bun:"content"`
		Title      string `bun:"title"`
		Embedder   string `bun:"embedder"`
	}
	err := db.NewSelect().TableExpr("document_chunks AS c").Join("JOIN documents AS d ON d.id = c.document_id").
		ColumnExpr("c.id, c.document_id, c.position, c.start_offset, c.end_offset, c.content, d.title, d.embedder").
		Where("c.user_id = ? AND d.user_id = ? AND c.id IN (?)", userID, userID, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read passages: %w", err)
	}
	byID := make(map[int64]int, len(rows))
	for i, r := range rows {
		byID[r.ID] = i
	}
	for _, h := range hits {
		i, ok := byID[h.ChunkID]
		if !ok {
			continue // deleted since it was ranked
		}
		r := rows[i]
		out = append(out, &models.Passage{
			DocumentID: r.DocumentID, DocumentTitle: r.Title, ChunkID: strconv.FormatInt(r.ID, 10), Position: r.Position,
			Start: r.Start, End: r.End, Text: r.Content, Score: h.Score, Embedder: r.Embedder,
		})
	}
	return out, nil
}

// embeddedDocuments lists the user's documents whose chunks embedder embedded in
// dims dimensions, with when they were ingested (which changes with their chunks).
func embeddedDocuments(ctx context.Context, db bun.IDB, userID, embedder string, dims int) (map[string]time.Time, error) {
	var rows []struct {
		ID         string    `bun:"id"`
		IngestedAt time.Time `bun:"ingested_at"`
	}
	err := db.NewSelect().Table("documents").Column("id", "ingested_at").
		Where("user_id = ? AND embedder = ? AND dimensions = ? AND chunk_count > 0 AND ingested_at IS NOT NULL", userID, embedder, dims).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list embedded documents: %w", err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.ID] = r.IngestedAt
	}
	return out, nil
}

// loadSegments reads the vectors of the user's documents docIDs, normalised.
func loadSegments(ctx context.Context, db bun.IDB, userID string, docIDs []string, dims int) ([]*segment, error) {
	var out []*segment
	const batch = 500
	for i := 0; i < len(docIDs); i += batch {
		part := docIDs[i:min(i+batch, len(docIDs))]
		rows, err := db.QueryContext(ctx, `SELECT id, document_id, embedding FROM document_chunks
			WHERE user_id = ? AND document_id IN (?) AND dimensions = ? ORDER BY document_id, id`, userID, bun.List(part), dims)
		if err != nil {
			return nil, fmt.Errorf("read vectors: %w", err)
		}
		segs, err := scanSegments(rows, dims)
		if err != nil {
			return nil, err
		}
		out = append(out, segs...)
	}
	return out, nil
}

func scanSegments(rows *sql.Rows, dims int) ([]*segment, error) {
	defer rows.Close()
	var (
		out   []*segment
		cur   *segment
		id    int64
		docID string
		raw   []byte
	)
	buf := make([]float32, dims)
	for rows.Next() {
		if err := rows.Scan(&id, &docID, &raw); err != nil {
			return nil, fmt.Errorf("read vectors: %w", err)
		}
		if len(raw) != 4*dims {
			continue
		}
		if cur == nil || cur.docID != docID {
			cur = &segment{docID: docID}
			out = append(out, cur)
		}
		decodeVector(raw, buf)
		cur.ids = append(cur.ids, id)
		cur.vecs = append(cur.vecs, normalized(buf)...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read vectors: %w", err)
	}
	return out, nil
}

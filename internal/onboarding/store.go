package onboarding

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every function here takes one user's ID and filters by it: there is no query path
// that reads another user's rows (key rotation, an operator's command, is the one
// exception and says so). A row a user never entered is NOT_FOUND.

// --- progress ---

// findProgress returns the user's progress; a user who never started gets an
// unstarted one (no row is written for that).
func (st *statements) findProgress(ctx context.Context, db bun.IDB, userID string) (*models.OnboardingProgress, error) {
	var rows []*models.OnboardingProgress
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find progress: %w", err)
	}
	steps, err := st.findSteps(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	var row *models.OnboardingProgress
	if len(rows) > 0 {
		row = rows[0]
	}
	return progressOf(userID, row, steps), nil
}

// statements are the summary's reads of one user, each written once per service
// from the models (a new column is read without a change here) with
// database.Placeholder for the user's ID, and run as raw statements (scanByUser):
// on PostgreSQL the text is then final. Written by Bun's query builder and
// formatted at each read, the five statements cost a 4 KB buffer each, the builder,
// its column lists and the formatted text: about 23 KB, a seventh of the bytes the
// summary allocated.
//
// The lists (steps, keys, integrations, personas) leave user_id out of their
// columns and set it from the statement's own value: decoding it was a string and
// its boxing for every row, the same string each time (about 130 of the summary's
// allocations with 50 personas).
type statements struct {
	row          string // summaryRowQuery's
	steps        string
	keys         string
	integrations string
	versions     string // the personas, details on the active one only (findPersonaVersions)
}

func newStatements(db bun.IDB) *statements {
	at := database.Placeholder(db)
	byUser := func(q *bun.SelectQuery) string {
		return q.Where("user_id = ?", at).String()
	}
	list := func(model any, order string) string {
		return byUser(db.NewSelect().Model(model).ExcludeColumn("user_id").Order(order))
	}
	versions := db.NewSelect().Model((*models.Persona)(nil)).Column("id", "version", "active", "source", "model", "created_at")
	for _, c := range personaDetails {
		versions = versions.ColumnExpr("CASE WHEN active THEN ? END AS ?", bun.Ident(c), bun.Ident(c))
	}
	return &statements{
		row:          summaryRowQuery(db.Dialect(), at),
		steps:        list((*models.OnboardingStep)(nil), "step"),
		keys:         list((*models.ProviderKey)(nil), "provider"),
		integrations: list((*models.Integration)(nil), "kind"),
		versions:     byUser(versions.OrderExpr("version DESC")),
	}
}

// scanByUser runs statement, one of statements', for userID into dest.
func scanByUser(ctx context.Context, db bun.IDB, statement, userID string, dest any) error {
	bctx, uid := database.Bind(ctx, db, userID)
	return db.NewRaw(statement, uid).Scan(bctx, dest)
}

// findSteps returns the step rows the user has, in order (fillSteps adds the rest).
func (st *statements) findSteps(ctx context.Context, db bun.IDB, userID string) ([]*models.OnboardingStep, error) {
	var steps []*models.OnboardingStep
	if err := scanByUser(ctx, db, st.steps, userID, &steps); err != nil {
		return nil, fmt.Errorf("find steps: %w", err)
	}
	for _, s := range steps {
		s.UserID = userID // not read: the statement's own value (see statements)
	}
	return steps, nil
}

// progressOf is the progress from the user's progress row (nil when they never
// started) and step rows.
func progressOf(userID string, row *models.OnboardingProgress, steps []*models.OnboardingStep) *models.OnboardingProgress {
	p := &models.OnboardingProgress{UserID: userID, CurrentStep: models.StepProviderKeys}
	if row != nil {
		p = row
	}
	p.Steps = fillSteps(userID, steps)
	deriveFromSteps(p)
	return p
}

// --- the summary's one row ---

// summaryRow is what the summary reads of the tables holding at most one row per
// user, in one statement: the account's tier (which the summary's plan shows), the
// progress row, the website analysis, the business information and the research
// preferences. A row the user never entered scans as zero values (its user_id is
// then empty); the accessors below say nil instead.
type summaryRow struct {
	Tier        models.Tier                `bun:"tier"`
	Progress    models.OnboardingProgress  `bun:"embed:p_"`
	Website     models.WebsiteAnalysis     `bun:"embed:w_"`
	Business    models.BusinessInfo        `bun:"embed:b_"`
	Preferences models.ResearchPreferences `bun:"embed:r_"`
}

// summaryJoins are the one-row tables by the alias summaryRow's prefix names.
var summaryJoins = []struct {
	alias string
	model any
}{
	{"p", (*models.OnboardingProgress)(nil)},
	{"w", (*models.WebsiteAnalysis)(nil)},
	{"b", (*models.BusinessInfo)(nil)},
	{"r", (*models.ResearchPreferences)(nil)},
}

// summaryRowQuery is the statement findSummaryRow runs, in dialect d, with at for
// the user's ID (database.Placeholder): the account LEFT JOINed with each one-row table,
// every column named as summaryRow's embed tags say (p.user_id AS p_user_id). It is
// made once per service from the models, so a new column is read without a change
// here.
func summaryRowQuery(d schema.Dialect, at bun.Safe) string {
	var cols, joins strings.Builder
	cols.WriteString("SELECT u.tier")
	for _, j := range summaryJoins {
		table := d.Tables().Get(reflect.TypeOf(j.model).Elem())
		for _, f := range table.Fields {
			fmt.Fprintf(&cols, ", %s.%s AS %s_%s", j.alias, f.SQLName, j.alias, f.Name)
		}
		fmt.Fprintf(&joins, " LEFT JOIN %s AS %s ON %s.user_id = u.id", table.SQLName, j.alias, j.alias)
	}
	return cols.String() + " FROM users AS u" + joins.String() + " WHERE u.id = " + string(at)
}

// findSummaryRow reads the user's summaryRow; NOT_FOUND when the account does not
// exist.
func (st *statements) findSummaryRow(ctx context.Context, db bun.IDB, userID string) (*summaryRow, error) {
	row := new(summaryRow)
	if err := scanByUser(ctx, db, st.row, userID, row); err != nil {
		return nil, database.NotFound(err, "user")
	}
	return row, nil
}

func (r *summaryRow) progress() *models.OnboardingProgress {
	if r == nil || r.Progress.UserID == "" {
		return nil
	}
	p := r.Progress
	return &p
}

func (r *summaryRow) website() *models.WebsiteAnalysis {
	if r == nil || r.Website.UserID == "" {
		return nil
	}
	return &r.Website
}

func (r *summaryRow) business() *models.BusinessInfo {
	if r == nil || r.Business.UserID == "" {
		return nil
	}
	return &r.Business
}

func (r *summaryRow) preferences() *models.ResearchPreferences {
	if r == nil || r.Preferences.UserID == "" {
		return nil
	}
	return &r.Preferences
}

// deriveFromSteps sets the start, current step and completion from the steps
// themselves. The progress row and the step rows are read in two statements without
// a shared snapshot (a change can commit between them); taking these from the steps
// keeps one answer consistent with itself.
func deriveFromSteps(p *models.OnboardingProgress) {
	var first *time.Time
	for _, st := range p.Steps {
		for _, at := range []*time.Time{st.StartedAt, st.CompletedAt, st.SkippedAt} {
			if at != nil && (first == nil || at.Before(*first)) {
				first = at
			}
		}
	}
	if first != nil && (p.StartedAt == nil || first.Before(*p.StartedAt)) {
		p.StartedAt = first
	}
	p.CurrentStep = models.StepFinal
	for _, st := range p.Steps {
		if !st.Status.Done() {
			p.CurrentStep = st.Step
			break
		}
	}
	if final := p.Steps[models.StepFinal-1]; final.Status == models.StepCompleted {
		p.CompletedAt = final.CompletedAt
	} else {
		p.CompletedAt = nil
	}
}

// fillSteps returns all six steps in order, pending where no row exists.
func fillSteps(userID string, have []*models.OnboardingStep) []*models.OnboardingStep {
	all := make([]*models.OnboardingStep, models.StepCount)
	for _, s := range have {
		if s.Step.Valid() {
			all[s.Step-1] = s
		}
	}
	for i := range all {
		if all[i] == nil {
			all[i] = &models.OnboardingStep{UserID: userID, Step: models.Step(i + 1), Status: models.StepPending}
		}
	}
	return all
}

// saveProgress writes the progress row and all six step rows.
func saveProgress(ctx context.Context, db bun.IDB, p *models.OnboardingProgress) error {
	if _, err := db.NewInsert().Model(p).
		On("CONFLICT (user_id) DO UPDATE").
		Set("current_step = EXCLUDED.current_step").
		Set("started_at = EXCLUDED.started_at").
		Set("completed_at = EXCLUDED.completed_at").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	if _, err := db.NewInsert().Model(&p.Steps).
		On("CONFLICT (user_id, step) DO UPDATE").
		Set("status = EXCLUDED.status").
		Set("started_at = EXCLUDED.started_at").
		Set("completed_at = EXCLUDED.completed_at").
		Set("skipped_at = EXCLUDED.skipped_at").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("save steps: %w", err)
	}
	return nil
}

// --- provider keys ---

func (st *statements) findProviderKeys(ctx context.Context, db bun.IDB, userID string) ([]*models.ProviderKey, error) {
	var rows []*models.ProviderKey
	if err := scanByUser(ctx, db, st.keys, userID, &rows); err != nil {
		return nil, fmt.Errorf("find provider keys: %w", err)
	}
	for _, r := range rows {
		r.UserID = userID // see statements
	}
	return rows, nil
}

func findProviderKey(ctx context.Context, db bun.IDB, userID, provider string) (*models.ProviderKey, error) {
	k := new(models.ProviderKey)
	err := db.NewSelect().Model(k).Where("user_id = ? AND provider = ?", userID, provider).Scan(ctx)
	if err != nil {
		return nil, database.NotFound(err, "a "+provider+" key")
	}
	return k, nil
}

func upsertProviderKey(ctx context.Context, db bun.IDB, k *models.ProviderKey) error {
	_, err := db.NewInsert().Model(k).
		On("CONFLICT (user_id, provider) DO UPDATE").
		Set("ciphertext = EXCLUDED.ciphertext").
		Set("key_version = EXCLUDED.key_version").
		Set("masked = EXCLUDED.masked").
		Set("format_valid = EXCLUDED.format_valid").
		Set("status = EXCLUDED.status").
		Set("last_verified_at = EXCLUDED.last_verified_at").
		Set("last_error = EXCLUDED.last_error").
		Set("updated_at = EXCLUDED.updated_at").
		Returning("id, created_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("save provider key: %w", err)
	}
	return nil
}

// updateKeyVerification records a live check of the key the caller read, unless the
// key was replaced or checked meanwhile (updated_at moved on from seen): a late answer
// about an old key must not label the new one. Rotation re-encrypts without touching
// updated_at, so it does not count as a change.
func updateKeyVerification(ctx context.Context, db bun.IDB, k *models.ProviderKey, seen time.Time) (bool, error) {
	res, err := db.NewUpdate().Model(k).
		Column("status", "last_verified_at", "last_error", "updated_at").
		Where("user_id = ? AND provider = ? AND updated_at = ?", k.UserID, k.Provider, seen).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record key verification: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func deleteProviderKey(ctx context.Context, db bun.IDB, userID, provider string) (bool, error) {
	res, err := db.NewDelete().Model((*models.ProviderKey)(nil)).
		Where("user_id = ? AND provider = ?", userID, provider).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete provider key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// findKeysNotSealedWith returns up to limit keys (of any user) not sealed with version
// current, for key rotation, which is an operator's command and not a user's query.
func findKeysNotSealedWith(ctx context.Context, db bun.IDB, current, limit int) ([]*models.ProviderKey, error) {
	var rows []*models.ProviderKey
	err := db.NewSelect().Model(&rows).Where("key_version <> ?", current).Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find keys to reseal: %w", err)
	}
	return rows, nil
}

func countKeysNotSealedWith(ctx context.Context, db bun.IDB, current int) (int, error) {
	n, err := db.NewSelect().Model((*models.ProviderKey)(nil)).Where("key_version <> ?", current).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count keys to reseal: %w", err)
	}
	return int(n), nil
}

// newestKeyVersion is the newest key version any stored key is sealed with, 0 when
// there is none (the key_version index answers it).
func newestKeyVersion(ctx context.Context, db bun.IDB) (int, error) {
	var v sql.NullInt64
	if err := db.NewSelect().Model((*models.ProviderKey)(nil)).ColumnExpr("MAX(key_version)").Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("newest key version: %w", err)
	}
	return int(v.Int64), nil
}

// lockKeysForSave and lockKeysForRotation order a save of a provider key and a pass
// of key rotation: on PostgreSQL the save takes the table in ROW EXCLUSIVE mode
// before it reads anything (as its write would later) and the pass in SHARE ROW
// EXCLUSIVE mode, which excludes saves and other passes but not reads. On SQLite
// every transaction begins IMMEDIATE, holding the one write lock, so they are
// ordered already.
func lockKeysForSave(ctx context.Context, tx bun.Tx) error {
	return lockKeys(ctx, tx, "ROW EXCLUSIVE")
}

func lockKeysForRotation(ctx context.Context, tx bun.Tx) error {
	return lockKeys(ctx, tx, "SHARE ROW EXCLUSIVE")
}

func lockKeys(ctx context.Context, tx bun.Tx, mode string) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE provider_keys IN "+mode+" MODE"); err != nil {
		return fmt.Errorf("lock provider keys: %w", err)
	}
	return nil
}

func updateKeyCiphertext(ctx context.Context, db bun.IDB, k *models.ProviderKey, old []byte) (bool, error) {
	res, err := db.NewUpdate().Model(k).Column("ciphertext", "key_version").
		Where("id = ? AND user_id = ? AND ciphertext = ?", k.ID, k.UserID, old).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("reseal key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func countKeysByVersion(ctx context.Context, db bun.IDB) (map[int]int, error) {
	var rows []struct {
		KeyVersion int `bun:"key_version"`
		N          int `bun:"n"`
	}
	err := db.NewSelect().Model((*models.ProviderKey)(nil)).ColumnExpr("key_version, COUNT(*) AS n").
		Group("key_version").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("count keys: %w", err)
	}
	out := make(map[int]int, len(rows))
	for _, r := range rows {
		out[r.KeyVersion] = r.N
	}
	return out, nil
}

// --- website analysis, business info, preferences, integrations ---

// findOne reads the user's row of T, a table with at most one row per user;
// NOT_FOUND when there is none.
func findOne[T any](ctx context.Context, db bun.IDB, userID, what string) (*T, error) {
	row := new(T)
	if err := db.NewSelect().Model(row).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, what)
	}
	return row, nil
}

func upsertWebsiteAnalysis(ctx context.Context, db bun.IDB, a *models.WebsiteAnalysis) error {
	q := db.NewInsert().Model(a).On("CONFLICT (user_id) DO UPDATE")
	for _, c := range []string{"url", "final_url", "analyzed_at", "title", "description", "headings", "word_count",
		"reading_level", "language", "top_terms", "tone", "style", "brand", "content_type", "fetched_bytes", "fetch_duration_ms"} {
		q = q.Set(c + " = EXCLUDED." + c)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save website analysis: %w", err)
	}
	return nil
}

func findBusinessInfo(ctx context.Context, db bun.IDB, userID string) (*models.BusinessInfo, error) {
	return findOne[models.BusinessInfo](ctx, db, userID, "business information")
}

func insertBusinessInfo(ctx context.Context, db bun.IDB, b *models.BusinessInfo) error {
	if _, err := db.NewInsert().Model(b).Exec(ctx); err != nil {
		return fmt.Errorf("save business information: %w", err)
	}
	return nil
}

func updateBusinessInfo(ctx context.Context, db bun.IDB, b *models.BusinessInfo) error {
	_, err := db.NewUpdate().Model(b).
		Column("business_name", "description", "industry", "target_audience", "business_goals", "products", "updated_at").
		Where("user_id = ?", b.UserID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update business information: %w", err)
	}
	return nil
}

func deleteBusinessInfo(ctx context.Context, db bun.IDB, userID string) (bool, error) {
	res, err := db.NewDelete().Model((*models.BusinessInfo)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete business information: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func upsertPreferences(ctx context.Context, db bun.IDB, p *models.ResearchPreferences) error {
	q := db.NewInsert().Model(p).On("CONFLICT (user_id) DO UPDATE")
	for _, c := range []string{"depth", "content_types", "auto_research", "factual_content", "target_audience", "writing_tone", "language", "updated_at"} {
		q = q.Set(c + " = EXCLUDED." + c)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save research preferences: %w", err)
	}
	return nil
}

func (st *statements) findIntegrations(ctx context.Context, db bun.IDB, userID string) ([]*models.Integration, error) {
	var rows []*models.Integration
	if err := scanByUser(ctx, db, st.integrations, userID, &rows); err != nil {
		return nil, fmt.Errorf("find integrations: %w", err)
	}
	for _, r := range rows {
		r.UserID = userID // see statements
	}
	return rows, nil
}

func replaceIntegrations(ctx context.Context, db bun.IDB, userID string, rows []*models.Integration) error {
	if _, err := db.NewDelete().Model((*models.Integration)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("clear integrations: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("save integrations: %w", err)
	}
	return nil
}

// --- personas ---

// findPersonas returns the user's personas, newest version first.
func findPersonas(ctx context.Context, db bun.IDB, userID string) ([]*models.Persona, error) {
	var rows []*models.Persona
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("version DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find personas: %w", err)
	}
	return rows, nil
}

// personaDetails are the persona columns that hold JSON, which findPersonaVersions
// reads for the active persona only.
var personaDetails = []string{"core", "platform_personas", "quality", "selected_platforms"}

// findPersonaVersions returns the user's personas, newest version first, with
// details (personaDetails) only on the active one: the others carry their ID,
// version, source, model and creation time. A list of versions shows no more, and
// decoding every version's JSON was most of the summary's cost.
func (st *statements) findPersonaVersions(ctx context.Context, db bun.IDB, userID string) ([]*models.Persona, error) {
	var rows []*models.Persona
	if err := scanByUser(ctx, db, st.versions, userID, &rows); err != nil {
		return nil, fmt.Errorf("find persona versions: %w", err)
	}
	for _, r := range rows {
		r.UserID = userID // see statements
	}
	return rows, nil
}

// findActivePersona returns the user's active persona; NOT_FOUND when none is.
func findActivePersona(ctx context.Context, db bun.IDB, userID string) (*models.Persona, error) {
	p := new(models.Persona)
	if err := db.NewSelect().Model(p).Where("user_id = ? AND active", userID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "active persona")
	}
	return p, nil
}

func nextPersonaVersion(ctx context.Context, db bun.IDB, userID string) (int, error) {
	var v sql.NullInt64
	err := db.NewSelect().Model((*models.Persona)(nil)).ColumnExpr("MAX(version)").Where("user_id = ?", userID).Scan(ctx, &v)
	if err != nil {
		return 0, fmt.Errorf("persona version: %w", err)
	}
	return int(v.Int64) + 1, nil
}

func deactivatePersonas(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.NewUpdate().Model((*models.Persona)(nil)).Set("active = ?", false).
		Where("user_id = ? AND active", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("deactivate personas: %w", err)
	}
	return nil
}

func insertPersona(ctx context.Context, db bun.IDB, p *models.Persona) error {
	if _, err := db.NewInsert().Model(p).Exec(ctx); err != nil {
		return fmt.Errorf("save persona: %w", err)
	}
	return nil
}

func activatePersona(ctx context.Context, db bun.IDB, userID, id string) (bool, error) {
	res, err := db.NewUpdate().Model((*models.Persona)(nil)).Set("active = ?", true).
		Where("user_id = ? AND id = ?", userID, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("activate persona: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func findPersona(ctx context.Context, db bun.IDB, userID, id string) (*models.Persona, error) {
	p := new(models.Persona)
	if err := db.NewSelect().Model(p).Where("user_id = ? AND id = ?", userID, id).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "persona")
	}
	return p, nil
}

// deleteUserData deletes everything the user entered in the wizard.
func deleteUserData(ctx context.Context, db bun.IDB, userID string) error {
	for _, model := range []any{
		(*models.ProviderKey)(nil), (*models.WebsiteAnalysis)(nil), (*models.BusinessInfo)(nil),
		(*models.ResearchPreferences)(nil), (*models.Integration)(nil), (*models.Persona)(nil),
	} {
		if _, err := db.NewDelete().Model(model).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete onboarding data: %w", err)
		}
	}
	return nil
}

package api_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/pgbouncer"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
	"github.com/inkgraph/inkgraph/models"
)

// startPooledApp starts one server instance as a deployment behind PgBouncer runs it:
// its queries go to pooled (PgBouncer in transaction mode), its events bus LISTENs on
// direct (INKGRAPH_EVENTS_DATABASE_URL). Migrations are the caller's, on the direct
// URL, as `inkgraph migrate up` is the deployment's.
func startPooledApp(t *testing.T, pooled, direct string, tune ...func(*config.Config)) *app {
	t.Helper()
	// PgBouncer 1.18 in transaction mode loses prepared statements: configured as the
	// README says for it.
	tune = append(tune, func(c *config.Config) { c.Database.NoPreparedStatements = true })
	return startAppWith(t, pooled, wiring{eventsURL: direct, callerMigrates: true}, tune...)
}

// must runs an operation on a and fails the test on any error.
func (a *app) must(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	data, errs := a.do(t, token, query, vars)
	require.Empty(t, errs, "%s: %s", query, messages(errs))
	return data
}

// nextEvent reads a socket's next data message for operation id.
func nextEvent(t *testing.T, reads <-chan wsRead, id string) string {
	t.Helper()
	for {
		select {
		case r := <-reads:
			require.NoError(t, r.err)
			if r.msg.Type == "ping" || r.msg.Type == "pong" {
				continue
			}
			require.Equal(t, id, r.msg.ID, "%s %s", r.msg.Type, r.msg.Payload)
			require.Equal(t, "next", r.msg.Type, "%s", r.msg.Payload)
			return string(r.msg.Payload)
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for %s", id)
		}
	}
}

// untilEvent repeats nudge (a mutation on another instance) until subscription id on
// the socket hears of it: a subscription is live once its first event arrives, which
// no fixed wait tells. Other subscriptions' events on the socket are passed over.
func untilEvent(t *testing.T, reads <-chan wsRead, id string, nudge func()) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		nudge()
		select {
		case r := <-reads:
			require.NoError(t, r.err)
			if r.msg.Type == "ping" || r.msg.Type == "pong" {
				continue
			}
			if r.msg.ID != id {
				continue // another subscription's event on the same socket
			}
			require.Equal(t, "next", r.msg.Type, "%s", r.msg.Payload)
			return string(r.msg.Payload)
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s never heard of the other instance's change", id)
		}
	}
}

// TestEveryPathThroughPgBouncer runs two instances whose queries go through PgBouncer
// in transaction pooling mode (pgx in simple protocol mode: no server-side prepared
// statement for a pooler to lose) and whose events bus LISTENs on a direct connection,
// and takes one user through every area, alternating instances: sign-up, sign-in,
// refresh, the whole onboarding and its summary, personas, playbooks and chat on the
// offline provider, billing against stripe-mock (its webhook on A, the event on B),
// backups on a store both share, the audit log, and sign-out, whose event reaches a
// socket on the other instance. Events cross instances in both directions.
func TestEveryPathThroughPgBouncer(t *testing.T) {
	t.Parallel()
	direct := testkit.PostgresDatabaseURL(t)
	bouncer := pgbouncer.Start(t)
	pooled := bouncer.URL(direct)
	mock := stripemock.Start(t)

	// Migrations on the direct connection, as the deployment's one-shot migrate does:
	// their lock is a session advisory lock.
	directDB, err := database.Open(context.Background(), database.Config{URL: direct})
	require.NoError(t, err)
	_, err = testkit.NewMigrator(t, directDB).Up(context.Background())
	require.NoError(t, err)
	require.NoError(t, directDB.Close())

	// Both instances share the local backup directory (as they must, or use S3).
	tsA := httptest.NewUnstartedServer(nil)
	t.Cleanup(tsA.Close)
	shared := t.TempDir()
	tune := []func(*config.Config){withStripe(mock.URL), withoutRateLimits, func(c *config.Config) {
		c.BackupDir = shared
		c.BackupBaseURL = "http://" + tsA.Listener.Addr().String()
	}}
	a := startPooledApp(t, pooled, direct, tune...)
	b := startPooledApp(t, pooled, direct, tune...)
	tsA.Config.Handler = a.handler
	tsA.Start()
	tsB := serve(t, b)

	// Accounts: sign up on A, sign in on B, refresh on A, read on B.
	const email = "pooled@example.com"
	_, _, userID := a.register(t, email)
	login := b.must(t, "", `mutation($e: String!) { login(input: {email: $e, password: "password1"}) { accessToken refreshToken } }`,
		map[string]any{"e": email})["login"].(map[string]any)
	refreshed := a.must(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`,
		map[string]any{"t": login["refreshToken"]})["refreshToken"].(map[string]any)
	token, refresh := refreshed["accessToken"].(string), refreshed["refreshToken"].(string)
	me := b.must(t, token, `{ me { id email tier } }`, nil)["me"].(map[string]any)
	require.Equal(t, userID, me["id"])
	b.must(t, "", `{ plans { tier } }`, nil)

	// Onboarding: a socket on B hears every change made on A.
	ws := dialGraphQLWS(t, tsB.URL, token)
	ws.subscribe(t, "progress", `subscription { onboardingProgress { currentStep percentage completed } }`)
	progress := reader(t, ws)
	first := untilEvent(t, progress, "progress", func() { a.must(t, token, `mutation { startOnboarding { currentStep } }`, nil) })
	require.Contains(t, first, `"currentStep":1`)

	onboard(t, a, token, site(t, sitePage))
	for !strings.Contains(nextEvent(t, progress, "progress"), `"currentStep":4`) { // steps 1 to 3, completed on A
	}
	b.must(t, "", `{ onboardingConfig { steps { step } } }`, nil)
	b.must(t, token, `mutation { createBusinessInfo(input: {businessName: "Acme Analytics", description: "Analytics for small teams that want answers."}) { id } }`, nil)
	a.must(t, token, `mutation { updateBusinessInfo(input: {industry: "Software", targetAudience: "founders"}) { id industry } }`, nil)
	b.must(t, token, `mutation { setIntegrations(kinds: [WORDPRESS, LINKEDIN]) { kind status } }`, nil)
	a.must(t, token, `mutation { previewPersona(platforms: [BLOG, LINKEDIN]) { core { name } } }`, nil)
	persona := b.must(t, token, `mutation { generatePersona(platforms: [BLOG]) { id version active } }`, nil)["generatePersona"].(map[string]any)
	a.must(t, token, `mutation($id: ID!) { setActivePersona(id: $id) { id active } }`, map[string]any{"id": persona["id"]})
	a.must(t, token, `mutation { completeStep(step: 4) { currentStep } }`, nil)
	b.must(t, token, `mutation { skipStep(step: 5) { currentStep } }`, nil)
	done := b.must(t, token, `mutation { completeOnboarding { completed percentage } }`, nil)["completeOnboarding"].(map[string]any)
	require.Equal(t, true, done["completed"])
	for !strings.Contains(nextEvent(t, progress, "progress"), `"completed":true`) { // A's and B's changes alike
	}
	summary := a.raw(t, token, summaryQuery)
	require.NotContains(t, summary, `"errors"`, summary)
	require.Contains(t, summary, `"completed":true`)
	require.Contains(t, summary, `"title":"Acme Analytics"`)
	b.must(t, token, `{ businessInfo { businessName industry } personas { id active } personaReadiness { ready } personalization { businessName } }`, nil)

	// Playbooks and chat on the offline provider (no LLM configured).
	pbs := a.must(t, token, `{ playbooks { id } playbookTemplates { id } }`, nil)
	require.NotEmpty(t, pbs["playbooks"])
	exec := b.must(t, token, `mutation($v: [PlaybookValueInput!]) { executeTemplate(templateId: "email_to_task", variables: $v) { output offline } }`,
		map[string]any{"v": []map[string]string{{"name": "email", "value": "Please send the Q3 numbers by Friday."}}})["executeTemplate"].(map[string]any)
	require.Equal(t, true, exec["offline"])
	chat := a.must(t, token, `mutation { sendChat(input: {message: "list my open tasks"}) { runId offline } }`, nil)["sendChat"].(map[string]any)
	require.Equal(t, true, chat["offline"])
	b.must(t, token, `{ agents { name } usage(days: 1) { rows { source requests } } }`, nil)

	// Billing: checkout on A; Stripe's webhook to A; the event on a socket on B.
	b.must(t, token, `mutation { createCheckoutSession(tier: PRO) { url } }`, nil)
	var customer string
	require.NoError(t, a.db.NewSelect().Table("billing_accounts").Column("customer_id").Where("user_id = ?", userID).
		Scan(context.Background(), &customer))
	ws.subscribe(t, "billing", `subscription { billingEvents { type tier status } }`)
	created := stripeEvent("evt_pooled_created", "customer.subscription.created", map[string]any{
		"id": "sub_pooled", "object": "subscription", "customer": customer, "status": "active",
		"cancel_at_period_end": false, "current_period_end": time.Now().Add(30 * 24 * time.Hour).Unix(), "created": time.Now().Unix(),
		"metadata": map[string]any{"user_id": userID},
		"items": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "si_pooled", "object": "subscription_item", "quantity": 1, "price": map[string]any{"id": "price_pro", "object": "price"},
		}}},
	})
	for {
		// Replays change nothing: send until the socket has heard of it.
		ev := untilEvent(t, progress, "billing", func() {
			require.Equal(t, http.StatusOK, postWebhook(t, tsA.URL, testWebhookSecret, created))
		})
		if strings.Contains(ev, `"tier":"PRO"`) {
			break
		}
	}
	me = b.must(t, token, `{ me { tier subscription { tier status } entitlements { feature allowed } } }`, nil)["me"].(map[string]any)
	require.Equal(t, "PRO", me["tier"])
	b.must(t, token, `mutation { createBillingPortalSession { url } }`, nil)

	// Backups: upload through A's signed URL, complete on B, read and delete across.
	blob := make([]byte, 64<<10)
	_, _ = rand.Read(blob)
	sum := sha256.Sum256(blob)
	up := a.must(t, token, `mutation($in: BackupUploadInput!) { requestBackupUpload(input: $in) { backup { id } method url headers { name value } } }`,
		map[string]any{"in": map[string]any{"version": 1, "timestamp": "2026-11-22T09:00:00Z", "checksum": hex.EncodeToString(sum[:]), "sizeBytes": len(blob)}},
	)["requestBackupUpload"].(map[string]any)
	status, body := signedCall(t, up, blob)
	require.Equal(t, http.StatusCreated, status, string(body))
	backupID := up["backup"].(map[string]any)["id"].(string)
	b.must(t, token, `mutation($id: ID!) { completeBackupUpload(id: $id) { status } }`, map[string]any{"id": backupID})
	listed := a.must(t, token, `{ backups(first: 5) { edges { node { id status } } } latestBackup { id } backupUsage { usedBytes } }`, nil)
	require.Equal(t, backupID, listed["latestBackup"].(map[string]any)["id"])
	get := b.must(t, token, `query($id: ID!) { backupDownloadUrl(id: $id) { method url headers { name value } } }`,
		map[string]any{"id": backupID})["backupDownloadUrl"].(map[string]any)
	status, body = signedCall(t, get, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, blob, body)
	a.must(t, token, `mutation($id: ID!) { deleteBackup(id: $id) { id } }`, map[string]any{"id": backupID})

	// The subscription's end of period, and back (stripe-mock answers both).
	a.must(t, token, `mutation { cancelSubscription { cancelAtPeriodEnd } }`, nil)
	b.must(t, token, `mutation { resumeSubscription { cancelAtPeriodEnd } }`, nil)

	// The audit log saw it all.
	log := b.must(t, token, `{ me { auditLog(first: 50) { edges { node { kind } } } } }`, nil)
	raw, err := json.Marshal(log)
	require.NoError(t, err)
	for _, kind := range []string{"LOGIN", "PROVIDER_KEY_SAVED", "CHECKOUT_STARTED", "TIER_CHANGED"} {
		require.Contains(t, string(raw), `"kind":"`+kind+`"`)
	}

	// Deleting, then starting over.
	require.Equal(t, true, a.must(t, token, `mutation { deleteBusinessInfo }`, nil)["deleteBusinessInfo"])
	require.Equal(t, true, b.must(t, token, `mutation { deleteProviderKey(provider: "openai") }`, nil)["deleteProviderKey"])
	a.must(t, token, `mutation { resetOnboarding(deleteData: true) { progress { currentStep } } }`, nil)

	// Sign-out on A: the socket on B hears its own session end, and closes.
	ws.subscribe(t, "account", `subscription { accountEvents { type reason currentSession } }`)
	other := ""
	ev := untilEvent(t, progress, "account", func() {
		if other != "" {
			a.must(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": other})
		}
		other = a.must(t, "", `mutation($e: String!) { login(input: {email: $e, password: "password1"}) { refreshToken } }`,
			map[string]any{"e": email})["login"].(map[string]any)["refreshToken"].(string)
	})
	require.Contains(t, ev, `"currentSession":false`, "another session's end, live")
	a.must(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": refresh})
	ce, msgs := readUntilClosed(t, progress)
	require.Equal(t, 4403, ce.Code)
	var sawOwn bool
	for _, m := range msgs {
		sawOwn = sawOwn || (m.ID == "account" && strings.Contains(string(m.Payload), `"currentSession":true`))
	}
	require.True(t, sawOwn, "the event saying this socket's session ended: %v", msgs)
	_, errs := b.do(t, token, meQuery, nil)
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeUnauthenticated, errs[0].Extensions["code"])

	// It all went through the pooler, in transaction mode.
	requirePooled(t, bouncer, direct)
}

// requirePooled asks PgBouncer's console that the test's database was pooled in
// transaction mode and carried the test's transactions.
func requirePooled(t *testing.T, bouncer *pgbouncer.Server, direct string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(bouncer.AdminURL())
	require.NoError(t, err)
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	dbName := direct[strings.LastIndex(direct, "/")+1:]
	dbName, _, _ = strings.Cut(dbName, "?")

	show := func(what string) map[string]map[string]any {
		rows, err := conn.Query(t.Context(), "SHOW "+what)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]map[string]any{}
		for rows.Next() {
			vals, err := rows.Values()
			require.NoError(t, err)
			row := map[string]any{}
			for i, f := range rows.FieldDescriptions() {
				row[f.Name] = vals[i]
			}
			name, _ := row["database"].(string)
			out[name] = row
		}
		require.NoError(t, rows.Err())
		return out
	}
	pools := show("POOLS")
	require.Contains(t, pools, dbName)
	require.Equal(t, "transaction", pools[dbName]["pool_mode"])
	stats := show("STATS")
	require.Contains(t, stats, dbName)
	count := func(name string) int64 {
		n, ok := stats[dbName][name].(pgtype.Numeric)
		require.True(t, ok, "%s is %T", name, stats[dbName][name])
		v, err := n.Int64Value()
		require.NoError(t, err)
		return v.Int64
	}
	xacts, queries := count("total_xact_count"), count("total_query_count")
	t.Logf("PgBouncer carried %d transactions and %d queries for the test's database", xacts, queries)
	require.Greater(t, xacts, int64(100), "the instances' statements went through PgBouncer")
}

package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
	"github.com/inkgraph/inkgraph/models"
)

const (
	webhookSecret = "whsec_inkgraph_test"
	// pricePro is the price of stripe-mock's subscription fixture (checked by
	// TestStripeMockFixture), so that what Stripe's API answers (cancel, resume,
	// re-fetch) maps to a tier as events do.
	pricePro   = "price_1PgafmB7WZ01zgkW6dKueIc5"
	pricePower = "price_power_test"
	priceTeam  = "price_team_test"
	grace      = 72 * time.Hour
)

// accounts is the Accounts fake: the tier the accounts area stores, as testkit's
// tier fake holds it, with a switch to make SetTier fail.
type accounts struct {
	*testkit.Tiers
	failSets atomic.Int32 // SetTier fails this many more times
	sets     atomic.Int32
}

func newAccounts() *accounts { return &accounts{Tiers: testkit.NewTiers()} }

func (a *accounts) SetTier(ctx context.Context, userID string, tier models.Tier) (bool, error) {
	a.sets.Add(1)
	if a.failSets.Load() > 0 {
		a.failSets.Add(-1)
		return false, fmt.Errorf("accounts: database unavailable")
	}
	old, err := a.TierOf(ctx, userID)
	if err != nil {
		return false, err
	}
	a.Set(userID, tier)
	return old != tier, nil
}

// env is one billing service over a database, with its clock (whole seconds, as
// Stripe's times are), bus, accounts and audit log.
type env struct {
	db       *bun.DB
	svc      *billing.Service
	clock    *testkit.Clock
	bus      *events.Memory
	accounts *accounts
	audit    *audit.Service
	stripe   *stripemock.Server   // nil without Stripe
	rec      *stripemock.Recorder // what was sent to Stripe
}

type envOption func(*billing.Config, *billing.Deps)

// withoutStripe turns billing off (no secret key); webhooks stay verifiable.
func withoutStripe() envOption {
	return func(c *billing.Config, _ *billing.Deps) { c.SecretKey = ""; c.APIBase = "" }
}

func withClientIP(ip string) envOption {
	return func(_ *billing.Config, d *billing.Deps) {
		d.ClientIP = func(context.Context) string { return ip }
	}
}

func newEnv(t *testing.T, db *bun.DB, opts ...envOption) *env {
	t.Helper()
	e := &env{db: db, clock: testkit.NewClock(time.Time{}), bus: events.NewMemory(slog.New(slog.DiscardHandler)),
		accounts: newAccounts(), rec: &stripemock.Recorder{}}
	e.audit = newAudit(t, db, e.clock.Now)
	t.Cleanup(func() { _ = e.bus.Close() })
	cfg := billing.Config{
		SecretKey:     stripemock.SecretKey,
		WebhookSecret: webhookSecret,
		Prices:        map[models.Tier]string{models.TierPro: pricePro, models.TierPower: pricePower, models.TierTeam: priceTeam},
		PublicURL:     "https://app.inkgraph.test",
		PastDueGrace:  grace,
		HTTPClient:    &http.Client{Transport: e.rec, Timeout: 30 * time.Second},
	}
	deps := billing.Deps{DB: db, Accounts: e.accounts, Audit: e.audit, Events: e.bus, Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	if cfg.SecretKey != "" {
		e.stripe = stripemock.Start(t)
		cfg.APIBase = e.stripe.URL
	}
	svc, err := billing.NewService(cfg, deps)
	require.NoError(t, err)
	e.svc = svc
	return e
}

// newAudit returns the audit log billing writes to, as internal/app wires it.
func newAudit(t *testing.T, db bun.IDB, now func() time.Time) *audit.Service {
	t.Helper()
	a, err := audit.NewService(audit.Deps{DB: db, Now: now})
	require.NoError(t, err)
	return a
}

// newUser adds a user on the free tier and returns its ID.
func (e *env) newUser(t *testing.T) string {
	t.Helper()
	return testkit.NewUser(t, e.db, models.TierFree, e.clock.Now())
}

func (e *env) userTier(t *testing.T, userID string) models.Tier {
	t.Helper()
	tier, err := e.accounts.TierOf(context.Background(), userID)
	require.NoError(t, err)
	return tier
}

// linkCustomer gives the user a Stripe customer as a checkout would have.
func (e *env) linkCustomer(t *testing.T, userID, customerID string) {
	t.Helper()
	now := e.clock.Now()
	_, err := e.db.NewInsert().Model(&models.BillingAccount{UserID: userID, CustomerID: &customerID,
		GrantedTier: models.TierFree, CreatedAt: now, UpdatedAt: now}).Exec(context.Background())
	require.NoError(t, err)
}

// --- Stripe's events ---

// sub describes a subscription object of an event.
type sub struct {
	ID        string
	Customer  string
	Status    string // Stripe's spelling: active, past_due, …
	Price     string
	Quantity  int
	PeriodEnd int64
	Cancel    bool
	UserID    string // metadata.user_id; "" for none
}

func (s sub) object() map[string]any {
	meta := map[string]any{}
	if s.UserID != "" {
		meta["user_id"] = s.UserID
	}
	q := s.Quantity
	if q == 0 {
		q = 1
	}
	return map[string]any{
		"id": s.ID, "object": "subscription", "customer": s.Customer, "status": s.Status,
		"cancel_at_period_end": s.Cancel, "current_period_end": s.PeriodEnd, "created": 1700000000,
		"metadata": meta,
		"items": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "si_" + s.ID, "object": "subscription_item", "quantity": q,
			"price": map[string]any{"id": s.Price, "object": "price"},
		}}},
	}
}

// stripeEvent is an event as Stripe sends it.
type stripeEvent struct {
	ID        string
	Type      string
	Created   int64
	Object    map[string]any
	Previous  map[string]any
	RequestID string
}

func (ev stripeEvent) payload(t testing.TB) []byte {
	t.Helper()
	b, err := ev.marshal()
	require.NoError(t, err)
	return b
}

func (ev stripeEvent) marshal() ([]byte, error) {
	data := map[string]any{"object": ev.Object}
	if ev.Previous != nil {
		data["previous_attributes"] = ev.Previous
	}
	var req any
	if ev.RequestID != "" {
		req = map[string]any{"id": ev.RequestID, "idempotency_key": nil}
	} else {
		req = map[string]any{"id": nil, "idempotency_key": nil}
	}
	return json.Marshal(map[string]any{
		"id": ev.ID, "object": "event", "api_version": "2023-10-16", "created": ev.Created, "livemode": false,
		"pending_webhooks": 1, "type": ev.Type, "data": data, "request": req,
	})
}

func subEvent(id, typ string, created int64, s sub) stripeEvent {
	return stripeEvent{ID: id, Type: typ, Created: created, Object: s.object()}
}

func invoiceEvent(id, typ string, created int64, subscriptionID, customer string) stripeEvent {
	return stripeEvent{ID: id, Type: typ, Created: created, Object: map[string]any{
		"id": "in_" + id, "object": "invoice", "customer": customer, "subscription": subscriptionID,
		"amount_due": 2000, "currency": "usd", "attempt_count": 1, "status": "open",
	}}
}

func checkoutEvent(id string, created int64, userID, customer, subscriptionID string) stripeEvent {
	return stripeEvent{ID: id, Type: "checkout.session.completed", Created: created, Object: map[string]any{
		"id": "cs_" + id, "object": "checkout.session", "mode": "subscription", "client_reference_id": userID,
		"customer": customer, "subscription": subscriptionID, "metadata": map[string]any{"user_id": userID},
		"status": "complete", "payment_status": "paid",
	}}
}

// sign signs payload for the webhook endpoint at the time given.
func sign(payload []byte, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: at}).Header
}

// deliver sends the event to the service as Stripe would now (by the env's clock).
func (e *env) deliver(t testing.TB, ev stripeEvent) error {
	t.Helper()
	p := ev.payload(t)
	return e.svc.HandleWebhook(context.Background(), p, sign(p, e.clock.Now()))
}

func (e *env) mustDeliver(t testing.TB, ev stripeEvent) {
	t.Helper()
	require.NoError(t, e.deliver(t, ev), "deliver %s %s", ev.Type, ev.ID)
}

// --- the database as a whole ---

// dump returns every row of the tables billing writes (and users), and every user's
// tier as the accounts area holds it, in a stable order, for comparing before and
// after.
func (e *env) dump(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"users", "billing_accounts", "subscriptions", "subscription_changes", "stripe_events", "audit_log"} {
		var rows []map[string]any
		require.NoError(t, e.db.NewSelect().Table(table).Scan(context.Background(), &rows), table)
		var lines []string
		for _, r := range rows {
			b, err := json.Marshal(r)
			require.NoError(t, err)
			lines = append(lines, string(b))
			if table == "users" {
				id := fmt.Sprint(r["id"])
				out["account tiers"] = append(out["account tiers"], id+"="+string(e.userTier(t, id)))
			}
		}
		sort.Strings(lines)
		out[table] = lines
	}
	sort.Strings(out["account tiers"])
	return out
}

func count(t *testing.T, db bun.IDB, table, where string, args ...any) int {
	t.Helper()
	q := db.NewSelect().Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	n, err := q.Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func auditKinds(t *testing.T, svc *audit.Service, userID string) []models.AuditKind {
	t.Helper()
	conn, err := svc.AuditLog(context.Background(), userID, 100, "")
	require.NoError(t, err)
	var kinds []models.AuditKind
	for _, e := range conn.Edges {
		kinds = append(kinds, e.Node.Kind)
	}
	return kinds
}

func codeOf(err error) string { return models.ErrorCode(err) }

// fixtureSubscription reads stripe-mock's subscription fixture, whose price and
// customer Stripe's answers carry.
func fixtureSubscription(t *testing.T, url string) (price, customer string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/v1/subscriptions/sub_probe", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+stripemock.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var s struct {
		Customer string `json:"customer"`
		Items    struct {
			Data []struct {
				Price struct {
					ID string `json:"id"`
				} `json:"price"`
			} `json:"data"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &s), string(body))
	require.NotEmpty(t, s.Items.Data)
	require.True(t, strings.HasPrefix(s.Customer, "cus_"))
	return s.Items.Data[0].Price.ID, s.Customer
}

package webhookhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/api/webhookhttp"
	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const secret = "whsec_http_test"

// accounts is the accounts area as billing sees it: testkit's tier fake, which
// SetTier changes.
type accounts struct{ *testkit.Tiers }

func (a accounts) SetTier(ctx context.Context, userID string, tier models.Tier) (bool, error) {
	old, err := a.TierOf(ctx, userID)
	if err != nil {
		return false, err
	}
	a.Set(userID, tier)
	return old != tier, nil
}

func event(t *testing.T, id, userID string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2025-03-31.basil", "created": time.Now().Unix(), "type": "customer.subscription.created",
		"data": map[string]any{"object": map[string]any{
			"id": "sub_http", "object": "subscription", "customer": "cus_http", "status": "active",
			"cancel_at_period_end": false, "metadata": map[string]any{"user_id": userID},
			"items": map[string]any{"data": []any{map[string]any{"quantity": 1, "current_period_end": time.Now().Add(720 * time.Hour).Unix(),
				"price": map[string]any{"id": "price_pro"}}}},
		}},
	})
	require.NoError(t, err)
	return b
}

func post(t *testing.T, url string, body []byte, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func sign(body []byte, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

func TestHandlerAnswersStripe(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		url, user, acc := newWebhookServer(t, db)

		body := event(t, "evt_http_1", user)
		status, _ := post(t, url, body, "t=1,v1=00")
		require.Equal(t, http.StatusBadRequest, status, "bad signature: refused, and not worth retrying")
		status, _ = post(t, url, body, sign(body, time.Now().Add(-10*time.Minute)))
		require.Equal(t, http.StatusBadRequest, status, "stale")
		require.Zero(t, count(t, db))

		status, text := post(t, url, body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, text)
		require.Equal(t, 1, count(t, db))
		tier, err := acc.TierOf(ctx, user)
		require.NoError(t, err)
		require.Equal(t, models.TierPro, tier)

		status, _ = post(t, url, body, sign(body, time.Now()))
		require.Equal(t, http.StatusOK, status, "a redelivery succeeds")
		require.Equal(t, 1, count(t, db))

		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

		big := []byte(`{"id":"evt_big","pad":"` + strings.Repeat("x", webhookhttp.MaxBody) + `"}`)
		status, _ = post(t, url, big, sign(big, time.Now()))
		require.Equal(t, http.StatusRequestEntityTooLarge, status)

		// The database going away is worth a retry: 500, and Stripe comes back.
		require.NoError(t, db.Close())
		other := event(t, "evt_http_2", user)
		status, _ = post(t, url, other, sign(other, time.Now()))
		require.Equal(t, http.StatusInternalServerError, status)
	})
}

func count(t *testing.T, db bun.IDB) int {
	t.Helper()
	n, err := db.NewSelect().Table("stripe_events").Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// newWebhookServer serves billing's webhook handler over db and returns its URL, a
// free user whose Stripe customer (cus_http) Inkgraph created at checkout (only such
// a customer is the user's), and the accounts billing sets tiers on.
func newWebhookServer(t *testing.T, db *bun.DB) (url, user string, acc accounts) {
	t.Helper()
	ctx := context.Background()
	acc = accounts{testkit.NewTiers()}
	bus := events.NewMemory(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = bus.Close() })
	log, err := audit.NewService(audit.Deps{DB: db})
	require.NoError(t, err)
	svc, err := billing.NewService(billing.Config{WebhookSecret: secret, Prices: map[models.Tier]string{models.TierPro: "price_pro"}},
		billing.Deps{DB: db, Accounts: acc, Audit: log, Events: bus})
	require.NoError(t, err)
	srv := httptest.NewServer(webhookhttp.Handler(svc, nil))
	t.Cleanup(srv.Close)

	user = testkit.NewUser(t, db, models.TierFree, time.Now())
	customer := "cus_http"
	_, err = db.NewInsert().Model(&models.BillingAccount{UserID: user, CustomerID: &customer, GrantedTier: models.TierFree,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}).Exec(ctx)
	require.NoError(t, err)
	return srv.URL + "/webhooks/stripe", user, acc
}

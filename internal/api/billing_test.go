package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
	"github.com/inkgraph/inkgraph/models"
)

const testWebhookSecret = "whsec_inkgraph_test"

// withStripe configures billing against a stripe-mock.
func withStripe(url string) func(*config.Config) {
	return func(c *config.Config) {
		c.StripeSecretKey = "sk_test_inkgraph"
		c.StripeWebhookSecret = testWebhookSecret
		c.StripeAPIBase = url
		c.StripePrices = map[models.Tier]string{models.TierPro: "price_pro", models.TierPower: "price_power", models.TierTeam: "price_team"}
	}
}

// postWebhook delivers an event to the server's Stripe endpoint, signed with secret.
func postWebhook(t *testing.T, baseURL, secret string, event map[string]any) int {
	t.Helper()
	payload, err := json.Marshal(event)
	require.NoError(t, err)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
	req, err := http.NewRequest(http.MethodPost, baseURL+"/webhooks/stripe", strings.NewReader(string(payload)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func stripeEvent(id, typ string, object map[string]any) map[string]any {
	return map[string]any{
		"id": id, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(), "livemode": false,
		"pending_webhooks": 1, "type": typ, "data": map[string]any{"object": object},
		"request": map[string]any{"id": nil, "idempotency_key": nil},
	}
}

func TestBillingEndToEnd(t *testing.T) {
	t.Parallel()
	mock := stripemock.Start(t)
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d, withStripe(mock.URL))
			ts := serve(t, a)
			_, _, userID := a.register(t, "payer@example.com")
			data, errs := a.do(t, "", `mutation { login(input: {email: "payer@example.com", password: "password1"}) { accessToken } }`, nil)
			require.Empty(t, errs)
			token := data["login"].(map[string]any)["accessToken"].(string)

			data, errs = a.do(t, token, `mutation { createCheckoutSession(tier: PRO) { id url } }`, nil)
			require.Empty(t, errs)
			require.NotEmpty(t, data["createCheckoutSession"].(map[string]any)["url"])
			// The customer Inkgraph created for the checkout is the one Stripe's events name.
			var customer string
			require.NoError(t, a.db.NewSelect().Table("billing_accounts").Column("customer_id").Where("user_id = ?", userID).Scan(context.Background(), &customer))
			require.NotEmpty(t, customer)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			events := subscribeSSE(t, ctx, ts.URL, token, `subscription { billingEvents { type tier status } }`)

			// Stripe reports the completed checkout and the new subscription. The
			// subscription is sent until the subscriber has heard of it: the stream
			// is live once its LISTEN is in place, and replays change nothing.
			require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, stripeEvent("evt_checkout", "checkout.session.completed", map[string]any{
				"id": "cs_1", "object": "checkout.session", "mode": "subscription", "client_reference_id": userID,
				"customer": customer, "subscription": "sub_payer", "metadata": map[string]any{"user_id": userID},
				"status": "complete", "payment_status": "paid",
			})))
			created := stripeEvent("evt_created", "customer.subscription.created", map[string]any{
				"id": "sub_payer", "object": "subscription", "customer": customer, "status": "active",
				"cancel_at_period_end": false, "current_period_end": time.Now().Add(30 * 24 * time.Hour).Unix(), "created": time.Now().Unix(),
				"metadata": map[string]any{"user_id": userID},
				"items": map[string]any{"object": "list", "data": []any{map[string]any{
					"id": "si_1", "object": "subscription_item", "quantity": 1, "price": map[string]any{"id": "price_pro", "object": "price"},
				}}},
			})
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
		wait:
			for {
				require.Equal(t, http.StatusOK, postWebhook(t, ts.URL, testWebhookSecret, created))
				select {
				case ev, ok := <-events:
					require.True(t, ok)
					if strings.Contains(ev.data, `"tier":"PRO"`) {
						break wait
					}
				case <-tick.C:
				case <-ctx.Done():
					t.Fatal("no billing event")
				}
			}

			data, errs = a.do(t, token, `{ me { tier subscription { tier status cancelAtPeriodEnd } entitlements { feature allowed } auditLog { edges { node { kind } } } } }`, nil)
			require.Empty(t, errs)
			me := data["me"].(map[string]any)
			require.Equal(t, "PRO", me["tier"])
			require.Equal(t, "ACTIVE", me["subscription"].(map[string]any)["status"])
			var kinds []string
			for _, e := range me["auditLog"].(map[string]any)["edges"].([]any) {
				kinds = append(kinds, e.(map[string]any)["node"].(map[string]any)["kind"].(string))
			}
			require.Contains(t, kinds, "LOGIN")
			require.Contains(t, kinds, "TIER_CHANGED")
			require.Contains(t, kinds, "CHECKOUT_STARTED")

			// A forged delivery is refused and changes nothing.
			before := countRows(t, a.db, "stripe_events")
			require.Equal(t, http.StatusBadRequest, postWebhook(t, ts.URL, "whsec_forged", stripeEvent("evt_forged", "customer.subscription.deleted", map[string]any{
				"id": "sub_payer", "object": "subscription", "customer": customer, "status": "canceled",
			})))
			require.Equal(t, before, countRows(t, a.db, "stripe_events"))
			data, errs = a.do(t, token, `{ me { tier } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, "PRO", data["me"].(map[string]any)["tier"])

			// Keys saved through onboarding reach the audit log too.
			_, errs = a.do(t, token, `mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked } }`, map[string]any{"k": openAIKey})
			require.Empty(t, errs)
			body := a.raw(t, token, `{ me { auditLog(first: 1) { edges { node { kind detail { key value } } } } } }`)
			require.Contains(t, body, `"kind":"PROVIDER_KEY_SAVED"`)
			require.NotContains(t, body, openAIKey)
		})
	}
}

func TestBillingWithoutStripe(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	token, _, _ := a.register(t, "free@example.com")
	_, errs := a.do(t, token, `mutation { createCheckoutSession(tier: PRO) { url } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, models.CodeBillingNotConfigured, errs[0].Extensions["code"])
	data, errs := a.do(t, token, `{ me { tier subscription { tier status } entitlements { feature allowed } } }`, nil)
	require.Empty(t, errs)
	me := data["me"].(map[string]any)
	require.Equal(t, "FREE", me["tier"])
	require.Equal(t, "NONE", me["subscription"].(map[string]any)["status"])
	require.NotEmpty(t, me["entitlements"])

	ts := serve(t, a)
	resp, err := http.Post(ts.URL+"/webhooks/stripe", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "no webhook secret: nothing can be verified")
}

// TestAuditLogOfSignIns checks the sign-in events reach the user's own audit log
// through the real wiring, and another user's log shows none of them.
func TestAuditLogOfSignIns(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, refresh, _ := a.register(t, "audited@example.com")
	other, _, _ := a.register(t, "bystander@example.com")
	_, errs := a.do(t, "", `mutation { login(input: {email: "audited@example.com", password: "wrong-password"}) { accessToken } }`, nil)
	require.Len(t, errs, 1)
	_, errs = a.do(t, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": refresh})
	require.Empty(t, errs)

	kinds := func(token string) []string {
		data, errs := a.do(t, token, `{ me { auditLog(first: 50) { edges { node { kind detail { key value } } } } } }`, nil)
		require.Empty(t, errs)
		var out []string
		for _, e := range data["me"].(map[string]any)["auditLog"].(map[string]any)["edges"].([]any) {
			out = append(out, e.(map[string]any)["node"].(map[string]any)["kind"].(string))
		}
		return out
	}
	// The signed-out session's token stops at once (issue 12, item 4): read the log
	// from a new session.
	_, errs = a.do(t, access, `{ me { id } }`, nil)
	require.Len(t, errs, 1)
	data, errs := a.do(t, "", `mutation { login(input: {email: "audited@example.com", password: "password1"}) { accessToken } }`, nil)
	require.Empty(t, errs)
	got := kinds(data["login"].(map[string]any)["accessToken"].(string))
	require.Contains(t, got, "LOGIN_FAILED")
	require.Contains(t, got, "LOGOUT")
	require.NotContains(t, kinds(other), "LOGIN_FAILED")
	require.NotContains(t, kinds(other), "LOGOUT")
}

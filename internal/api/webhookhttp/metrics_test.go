package webhookhttp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/webhookhttp"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// webhookCounts reads every series of metrics.WebhookEvents, by "type/result".
func webhookCounts(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "inkgraph_stripe_webhook_events_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["type"]+"/"+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	return got
}

// TestHandlerCountsDeliveries: every delivery adds one to exactly one series, whose
// type is the event's when billing acts on it ("other" otherwise, and for refused
// deliveries) and whose result says what happened. Not parallel: the counters are
// process-wide, and no other test of this package may post meanwhile.
func TestHandlerCountsDeliveries(t *testing.T) {
	db := testkit.NewDB(t, testkit.SQLite)
	url, user, _ := newWebhookServer(t, db)

	created := event(t, "evt_metrics_1", user)
	refund, err := json.Marshal(map[string]any{"id": "evt_metrics_2", "object": "event", "type": "charge.refunded",
		"created": time.Now().Unix(), "data": map[string]any{"object": map[string]any{"id": "ch_1", "object": "charge"}}})
	require.NoError(t, err)
	big := []byte(`{"id":"evt_big","pad":"` + strings.Repeat("x", webhookhttp.MaxBody) + `"}`)

	steps := []struct {
		name   string
		send   func() int
		status int
		series string
	}{
		{"bad signature", func() int { s, _ := post(t, url, created, "t=1,v1=00"); return s },
			http.StatusBadRequest, "other/rejected"},
		{"too large", func() int { s, _ := post(t, url, big, sign(big, time.Now())); return s },
			http.StatusRequestEntityTooLarge, "other/rejected"},
		{"applied", func() int { s, _ := post(t, url, created, sign(created, time.Now())); return s },
			http.StatusOK, "customer.subscription.created/applied"},
		{"redelivered", func() int { s, _ := post(t, url, created, sign(created, time.Now())); return s },
			http.StatusOK, "customer.subscription.created/duplicate"},
		{"a type billing does not act on", func() int { s, _ := post(t, url, refund, sign(refund, time.Now())); return s },
			http.StatusOK, "other/ignored"},
		{"database gone", func() int {
			require.NoError(t, db.Close())
			other := event(t, "evt_metrics_3", user)
			s, _ := post(t, url, other, sign(other, time.Now()))
			return s
		}, http.StatusInternalServerError, "customer.subscription.created/failed"},
	}
	for _, step := range steps {
		before := webhookCounts(t)
		require.Equal(t, step.status, step.send(), step.name)
		after := webhookCounts(t)
		for series, n := range after {
			want := before[series]
			if series == step.series {
				want++
			}
			require.Equal(t, want, n, "%s: %s", step.name, series)
		}
		require.Contains(t, after, step.series, step.name)
	}
}

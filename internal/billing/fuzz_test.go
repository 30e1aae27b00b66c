package billing

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/inkgraph/inkgraph/models"
)

// FuzzWebhookFold decodes arbitrary webhook deliveries and folds the events they
// carry in two arrival orders.
//
// events is a JSON array of Stripe event payloads (or, when it is not one, a single
// payload). Each is signed and read as HandleWebhook reads it: verifyEvent, then the
// object its type names. Nothing may panic, and a validly signed payload that is not
// a usable event is ErrMalformedWebhook. The events become subscription changes as
// apply makes them, one per event ID (a delivery seen again is not applied again),
// and are folded once in the order given and once in the order order draws, each
// change's ID giving its arrival as in the store. The two folds must agree, unless
// two changes of the same second and rank disagree: that is the one order the fold
// cannot know (the service re-fetches the subscription when it happens at the head).
// A subscription's customer and creation time never change at Stripe, so the fold
// sees those of its first snapshot throughout.
func FuzzWebhookFold(f *testing.F) {
	const secret = "whsec_fuzz"
	now := time.Unix(1_800_000_000, 0)
	prices := map[string]models.Tier{"price_pro": models.TierPro, "price_team": models.TierTeam}
	for _, seed := range fuzzSeeds() {
		f.Add(seed, []byte{3, 1, 4, 1, 5, 9, 2, 6})
	}
	f.Add([]byte(`{"id":"evt_1","type":"invoice.paid","created":1,"data":{"object":{"object":"invoice","id":"in_1","subscription":{"id":"sub_1"}}}}`), []byte{1})
	f.Add([]byte(`[{"id":"evt_1"},{"data":null},{"data":{"object":[]}},1,"x",null]`), []byte{})
	f.Add([]byte(`{"id":"e","type":"customer.subscription.updated","created":-9223372036854775808,"data":{"object":{"object":"subscription","id":"s","items":{"data":[{"price":{"id":"price_pro"},"quantity":-5}]}}}}`), []byte{0})

	f.Fuzz(func(t *testing.T, events, order []byte) {
		var payloads []json.RawMessage
		if json.Unmarshal(events, &payloads) != nil {
			payloads = []json.RawMessage{events}
		}
		var changes []*models.SubscriptionChange
		seen := map[string]bool{}
		for _, payload := range payloads {
			header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: now}).Header
			ev, err := verifyEvent(payload, header, secret, now)
			if err != nil {
				if !errors.Is(err, ErrMalformedWebhook) {
					t.Fatalf("a validly signed payload refused with %v", err)
				}
				continue
			}
			// Every reader sees every object: none may panic on another's.
			_, _ = parseCheckoutSession(ev.Object)
			c := fuzzChange(ev, prices)
			if c == nil || seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			changes = append(changes, c)
		}
		sameCustomerAndStart(changes)

		first := arrive(changes, identity(len(changes)))
		second := arrive(changes, permutation(len(changes), order))
		a, b := fold(first, prices, 72*time.Hour), fold(second, prices, 72*time.Hour)
		if sameSubscription(&a.sub, &b.sub) && a.tieAt == b.tieAt && a.newest == b.newest {
			return
		}
		if !ambiguous(changes) {
			t.Fatalf("the fold depends on arrival order:\n%s\nfirst %+v\nthen  %+v", describe(changes), a, b)
		}
	})
}

// fuzzChange is the change apply records for ev, nil when it records none.
func fuzzChange(ev *event, prices map[string]models.Tier) *models.SubscriptionChange {
	id := ev.ID
	switch ev.Type {
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed":
		sub, err := parseSubscription(ev.Object)
		if err != nil {
			return nil
		}
		snap := sub.snapshot(prices)
		return &models.SubscriptionChange{SubscriptionID: sub.ID, CustomerID: snap.CustomerID, EventID: &id,
			Kind: models.ChangeSnapshot, Source: models.SourceEvent, Created: ev.Created,
			Rank: snapshotRank(snap.Status), Snapshot: snap}
	case "invoice.paid", "invoice.payment_failed":
		in, err := parseInvoice(ev.Object)
		if err != nil || in.Subscription == "" {
			return nil
		}
		kind := models.ChangePaymentFailed
		if ev.Type == "invoice.paid" {
			kind = models.ChangePaid
		}
		return &models.SubscriptionChange{SubscriptionID: string(in.Subscription), CustomerID: string(in.Customer),
			EventID: &id, Kind: kind, Source: models.SourceEvent, Created: ev.Created, Rank: rankInvoice}
	}
	return nil
}

// sameCustomerAndStart gives every snapshot the customer and creation time of the
// first, as Stripe's subscription objects have.
func sameCustomerAndStart(changes []*models.SubscriptionChange) {
	var first *models.SubscriptionSnapshot
	for _, c := range changes {
		if c.Snapshot == nil {
			continue
		}
		if first == nil {
			first = c.Snapshot
			continue
		}
		c.Snapshot.CustomerID, c.Snapshot.Created = first.CustomerID, first.Created
	}
}

// arrive copies changes in the order given, with IDs that sort in that order.
func arrive(changes []*models.SubscriptionChange, order []int) []*models.SubscriptionChange {
	out := make([]*models.SubscriptionChange, len(order))
	for i, j := range order {
		c := *changes[j]
		c.ID = fmt.Sprintf("%08d", i)
		out[i] = &c
	}
	return out
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// permutation shuffles 0..n-1 with the bytes of draw (Fisher-Yates).
func permutation(n int, draw []byte) []int {
	out := identity(n)
	for i := n - 1; i > 0 && len(draw) > 0; i-- {
		j := int(draw[0]) % (i + 1)
		draw = draw[1:]
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// ambiguous reports whether two changes of the same second and rank disagree on
// what the fold takes from them.
func ambiguous(changes []*models.SubscriptionChange) bool {
	for i, a := range changes {
		for _, b := range changes[i+1:] {
			if a.Created != b.Created || a.Rank != b.Rank {
				continue
			}
			if a.Kind != b.Kind || (a.Snapshot == nil) != (b.Snapshot == nil) ||
				(a.Snapshot != nil && *a.Snapshot != *b.Snapshot) {
				return true
			}
		}
	}
	return false
}

func describe(changes []*models.SubscriptionChange) string {
	out := ""
	for _, c := range changes {
		out += fmt.Sprintf("  %s created %d rank %d %+v\n", c.Kind, c.Created, c.Rank, c.Snapshot)
	}
	return out
}

// fuzzSeeds are realistic deliveries: a checkout's lifecycle, a failed renewal and
// its recovery, a cancellation, duplicates and events of one second.
func fuzzSeeds() [][]byte {
	sub := func(id, typ string, created int64, status, price string, quantity int, cancel bool) map[string]any {
		return map[string]any{"id": id, "object": "event", "api_version": "2023-10-16", "created": created, "type": typ,
			"data": map[string]any{"object": map[string]any{
				"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status,
				"cancel_at_period_end": cancel, "current_period_end": created + 30*86400, "created": 1_700_000_000,
				"metadata": map[string]any{"user_id": "u1"},
				"items": map[string]any{"object": "list", "data": []any{map[string]any{
					"id": "si_1", "object": "subscription_item", "quantity": quantity,
					"price": map[string]any{"id": price, "object": "price"},
				}}},
			}},
			"request": map[string]any{"id": nil, "idempotency_key": nil}}
	}
	invoice := func(id, typ string, created int64) map[string]any {
		return map[string]any{"id": id, "object": "event", "created": created, "type": typ,
			"data": map[string]any{"object": map[string]any{
				"id": "in_" + id, "object": "invoice", "customer": "cus_1",
				"parent":     map[string]any{"subscription_details": map[string]any{"subscription": "sub_1"}},
				"amount_due": 2000, "currency": "usd", "attempt_count": 1,
			}}}
	}
	checkout := map[string]any{"id": "evt_cs", "object": "event", "created": 1_700_000_000, "type": "checkout.session.completed",
		"data": map[string]any{"object": map[string]any{"id": "cs_1", "object": "checkout.session", "mode": "subscription",
			"client_reference_id": "u1", "customer": "cus_1", "subscription": "sub_1"}}}
	lifecycles := [][]any{
		{
			sub("evt_1", "customer.subscription.created", 1_700_000_000, "incomplete", "price_pro", 1, false), checkout,
			sub("evt_2", "customer.subscription.updated", 1_700_000_001, "active", "price_pro", 1, false),
			invoice("evt_3", "invoice.paid", 1_700_000_001),
			invoice("evt_4", "invoice.payment_failed", 1_702_000_000),
			sub("evt_5", "customer.subscription.updated", 1_702_000_000, "past_due", "price_pro", 1, false),
			invoice("evt_6", "invoice.paid", 1_702_100_000),
			sub("evt_7", "customer.subscription.updated", 1_702_100_001, "active", "price_team", 5, true),
			sub("evt_8", "customer.subscription.deleted", 1_704_000_000, "canceled", "price_team", 5, true),
		},
		{
			sub("evt_1", "customer.subscription.created", 1_700_000_000, "incomplete", "price_pro", 1, false),
			sub("evt_1", "customer.subscription.created", 1_700_000_000, "incomplete", "price_pro", 1, false),
			sub("evt_2", "customer.subscription.updated", 1_700_000_000, "active", "price_pro", 1, false),
			sub("evt_3", "customer.subscription.updated", 1_700_000_050, "active", "price_pro", 1, true),
			sub("evt_4", "customer.subscription.updated", 1_700_000_050, "active", "price_pro", 1, false),
		},
		{
			sub("evt_1", "customer.subscription.updated", 1_700_000_000, "trialing", "price_unknown", 0, false),
			sub("evt_2", "customer.subscription.paused", 1_700_000_010, "paused", "price_pro", 1, false),
			invoice("evt_3", "invoice.payment_failed", 1_700_000_020),
			sub("evt_4", "customer.subscription.updated", 1_700_000_030, "unpaid", "price_pro", 1, false),
			sub("evt_5", "customer.subscription.updated", 1_700_000_040, "incomplete_expired", "price_pro", 1, false),
		},
	}
	var out [][]byte
	for _, l := range lifecycles {
		b, err := json.Marshal(l)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

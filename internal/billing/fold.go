package billing

import (
	"sort"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// A subscription's state is never "the last event applied". Stripe delivers events
// late, twice and out of order, so every change Stripe tells about a subscription is
// kept (subscription_changes) and the state is the fold of all of them in Stripe's
// order: by the event's `created` second, then by rank, then by arrival. Whatever
// order the same set of events arrives in, the fold is the same, and a late event
// older than what is known only lands where it belongs in the past.
//
// Rank orders changes of the same second, where `created` cannot:
//   - an incomplete snapshot first: a subscription starts incomplete, so within one
//     second (checkout) anything else is later;
//   - live snapshots (active, trialing, past due, …), then invoice effects, which
//     Stripe emits beside the subscription update they cause;
//   - terminal snapshots (canceled, incomplete_expired) last among events: Stripe
//     never moves a subscription out of them, and the fold keeps them once reached;
//   - Stripe's own answer to an API call (or a re-fetch) after all of them: it is
//     the state after every event Inkgraph had seen when it asked.
//
// What rank cannot order is two live snapshots of one second that disagree (a
// cancel and a resume within a second). When that happens at the newest second, the
// service re-fetches the subscription from Stripe (see resolveTie).
const (
	rankIncomplete = 0
	rankLive       = 10
	rankInvoice    = 15
	rankTerminal   = 20
	rankAPI        = 30
)

func snapshotRank(s models.SubscriptionStatus) int {
	switch {
	case s == models.SubscriptionIncomplete:
		return rankIncomplete
	case s.Terminal():
		return rankTerminal
	default:
		return rankLive
	}
}

func sortChanges(cs []*models.SubscriptionChange) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Created != b.Created {
			return a.Created < b.Created
		}
		if a.Rank != b.Rank {
			return a.Rank < b.Rank
		}
		return a.ID < b.ID // IDs are UUIDv7: arrival order
	})
}

// foldResult is a subscription's state as its changes say, and whether the newest
// second holds an unresolved tie.
type foldResult struct {
	sub models.BillingSubscription
	// tieAt is the `created` second of disagreeing same-rank snapshots at the head,
	// 0 when there is none.
	tieAt int64
	// newest is the largest `created` of all changes.
	newest int64
}

// fold computes a subscription's state from all of its changes. prices maps Stripe
// price IDs to tiers; grace is how long a past-due subscription keeps its tier.
func fold(changes []*models.SubscriptionChange, prices map[string]models.Tier, grace time.Duration) foldResult {
	cs := append([]*models.SubscriptionChange(nil), changes...)
	sortChanges(cs)
	st := models.BillingSubscription{Status: models.SubscriptionNone, PlanTier: models.TierFree, Seats: 1}
	var pastDueSince, lastEvent, newest int64
	for _, c := range cs {
		newest = max(newest, c.Created)
		if c.Source == models.SourceEvent {
			lastEvent = max(lastEvent, c.Created)
		}
		if st.Status.Terminal() {
			continue // Stripe never revives a canceled subscription
		}
		switch c.Kind {
		case models.ChangeSnapshot:
			if c.Snapshot == nil {
				continue
			}
			wasPastDue := st.Status == models.SubscriptionPastDue
			applySnapshot(&st, c.Snapshot, prices)
			switch {
			case st.Status != models.SubscriptionPastDue:
				pastDueSince = 0
			case !wasPastDue:
				pastDueSince = c.Created
			}
		case models.ChangePaymentFailed:
			// A failed renewal makes a paying subscription past due; an incomplete
			// one (its first payment) stays incomplete, as Stripe keeps it.
			switch st.Status {
			case models.SubscriptionActive, models.SubscriptionTrialing, models.SubscriptionNone:
				st.Status, pastDueSince = models.SubscriptionPastDue, c.Created
			}
		case models.ChangePaid:
			switch st.Status {
			case models.SubscriptionPastDue, models.SubscriptionUnpaid, models.SubscriptionIncomplete, models.SubscriptionNone:
				st.Status, pastDueSince = models.SubscriptionActive, 0
			}
		}
	}
	if pastDueSince != 0 {
		since := time.Unix(pastDueSince, 0).UTC()
		until := since.Add(grace)
		st.PastDueSince, st.GraceUntil = &since, &until
	}
	if lastEvent != 0 {
		t := time.Unix(lastEvent, 0).UTC()
		st.LastEventAt = &t
	}
	return foldResult{sub: st, tieAt: headTie(cs, newest), newest: newest}
}

func applySnapshot(st *models.BillingSubscription, s *models.SubscriptionSnapshot, prices map[string]models.Tier) {
	if s.CustomerID != "" {
		st.CustomerID = s.CustomerID
	}
	st.Status = s.Status
	st.PriceID = s.PriceID
	st.PlanTier = models.TierFree
	if t, ok := prices[s.PriceID]; ok {
		st.PlanTier = t
	}
	st.Seats = max(s.Quantity, 1)
	st.CurrentPeriodEnd = unixTime(s.CurrentPeriodEnd)
	st.CancelAtPeriodEnd = s.CancelAtPeriodEnd
	if s.Created != 0 {
		st.StartedAt = unixTime(s.Created)
	}
}

// headTie returns the newest second when it holds two event snapshots of the same
// rank that disagree and no answer from Stripe's API settles them; 0 otherwise.
func headTie(sorted []*models.SubscriptionChange, newest int64) int64 {
	var head []*models.SubscriptionChange
	for _, c := range sorted {
		if c.Created != newest || c.Kind != models.ChangeSnapshot || c.Snapshot == nil {
			continue
		}
		if c.Source == models.SourceAPI {
			return 0
		}
		head = append(head, c)
	}
	for i := range head {
		for j := i + 1; j < len(head); j++ {
			if head[i].Rank == head[j].Rank && !sameState(*head[i].Snapshot, *head[j].Snapshot) {
				return newest
			}
		}
	}
	return 0
}

// sameState compares what the fold takes from a snapshot.
func sameState(a, b models.SubscriptionSnapshot) bool {
	return a.Status == b.Status && a.PriceID == b.PriceID && a.Quantity == b.Quantity &&
		a.CurrentPeriodEnd == b.CurrentPeriodEnd && a.CancelAtPeriodEnd == b.CancelAtPeriodEnd
}

func unixTime(sec int64) *time.Time {
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

// effectiveTier is what a subscription grants at now: its plan's tier while active
// or trialing, and while past due until its grace ends; free otherwise.
func effectiveTier(s *models.BillingSubscription, now time.Time) models.Tier {
	switch s.Status {
	case models.SubscriptionActive, models.SubscriptionTrialing:
		return s.PlanTier
	case models.SubscriptionPastDue:
		if s.GraceUntil != nil && now.Before(*s.GraceUntil) {
			return s.PlanTier
		}
	}
	return models.TierFree
}

// graceExpired reports whether the subscription is past due beyond its grace.
func graceExpired(s *models.BillingSubscription, now time.Time) bool {
	return s.Status == models.SubscriptionPastDue && (s.GraceUntil == nil || !now.Before(*s.GraceUntil))
}

// currentSubscription picks the subscription that decides a user's tier: a live one
// before an incomplete one before an ended one; among those the one granting the
// most, then the newest. nil when the user has none.
func currentSubscription(subs []*models.BillingSubscription, now time.Time) *models.BillingSubscription {
	class := func(s *models.BillingSubscription) int {
		switch {
		case s.Status.Live():
			return 0
		case !s.Status.Terminal():
			return 1
		default:
			return 2
		}
	}
	tierRank := func(t models.Tier) int {
		for i, v := range models.Tiers() {
			if v == t {
				return i
			}
		}
		return 0
	}
	started := func(s *models.BillingSubscription) int64 {
		if s.StartedAt != nil {
			return s.StartedAt.Unix()
		}
		if s.LastEventAt != nil {
			return s.LastEventAt.Unix()
		}
		return 0
	}
	var best *models.BillingSubscription
	for _, s := range subs {
		if best == nil {
			best = s
			continue
		}
		switch cs, cb := class(s), class(best); {
		case cs != cb:
			if cs < cb {
				best = s
			}
		case tierRank(effectiveTier(s, now)) != tierRank(effectiveTier(best, now)):
			if tierRank(effectiveTier(s, now)) > tierRank(effectiveTier(best, now)) {
				best = s
			}
		case started(s) > started(best):
			best = s
		}
	}
	return best
}

// sameSubscription compares two folded rows, ignoring when they were written.
func sameSubscription(a, b *models.BillingSubscription) bool {
	eqTime := func(x, y *time.Time) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return x.Equal(*y)
	}
	return a.UserID == b.UserID && a.TeamID == b.TeamID && a.CustomerID == b.CustomerID && a.PriceID == b.PriceID &&
		a.PlanTier == b.PlanTier && a.Status == b.Status && a.Seats == b.Seats &&
		a.CancelAtPeriodEnd == b.CancelAtPeriodEnd && eqTime(a.CurrentPeriodEnd, b.CurrentPeriodEnd) &&
		eqTime(a.PastDueSince, b.PastDueSince) && eqTime(a.GraceUntil, b.GraceUntil) &&
		eqTime(a.StartedAt, b.StartedAt) && eqTime(a.LastEventAt, b.LastEventAt)
}

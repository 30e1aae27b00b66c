package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// A team pays for itself: it has its own Stripe customer (never its owner's), and its
// subscription (the team price, quantity = seats) is folded like a user's, into a row
// whose team_id is set, and grants the team a tier and paid seats. Who may start a
// team's checkout or open its portal is the team area's rule (owners). Billing
// records the team's billing entries in the team's log, each also in the personal
// log of one current owner: the billing contact (who last opened a checkout or the
// portal successfully) while they are still an owner, else the longest-standing
// owner. A team left with no owner at all (its last owner's account deleted) gets
// no entry (an audit entry needs a user): the server's log says so.

// TeamPlan returns what the team has from billing now: the tier its current
// subscription grants (free without one, once it ended, or once a failed payment's
// grace ended, even before anything was swept) and the seats paid for. Seats are
// limited only where a team can buy more: with Stripe configured and the TEAM tier
// for sale (STRIPE_PRICE_TEAM).
func (s *Service) TeamPlan(ctx context.Context, teamID string) (models.TeamPlan, error) {
	subs, err := findSubscriptionsByTeam(ctx, s.db, teamID)
	if err != nil {
		return models.TeamPlan{}, err
	}
	return s.teamPlan(subs, s.now()), nil
}

func (s *Service) teamPlan(subs []*models.BillingSubscription, now time.Time) models.TeamPlan {
	p := models.TeamPlan{Tier: models.TierFree, Seats: models.FreeTeamSeats, Limited: s.teamForSale(), Status: models.SubscriptionNone,
		Note: "the team has no subscription: its owner subscribes with teamCheckout"}
	cur := currentSubscription(subs, now)
	if cur == nil {
		return p
	}
	p.Status, p.CancelAtPeriodEnd = cur.Status, cur.CancelAtPeriodEnd
	if !cur.Status.Terminal() {
		p.Tier = effectiveTier(cur, now)
		if models.FeaturesOf(p.Tier).PerSeat {
			p.Seats = max(cur.Seats, 1)
		}
	}
	switch {
	case p.Tier != models.TierFree:
		p.Note = ""
	case graceExpired(cur, now):
		p.Note = fmt.Sprintf("a payment failed and the grace period ended on %s: the team's owner updates the payment method in the team's billing portal to get %s back",
			cur.GraceUntil.Format("2006-01-02 15:04 MST"), upper(cur.PlanTier))
	case cur.Status.Terminal() || !cur.Status.Live():
		p.Note = fmt.Sprintf("the team's subscription is %s: its owner subscribes again with teamCheckout", cur.Status)
	}
	return p
}

// teamForSale reports whether a team can buy seats on this server: Stripe is
// configured and the TEAM tier has a price. Elsewhere seats are not counted, or no
// one could ever invite past the first.
func (s *Service) teamForSale() bool { return s.Enabled() && s.cfg.Prices[models.TierTeam] != "" }

// TeamEntitlements lists every feature as the team's tier has it, with the reason of
// each refusal (a lapsed subscription says so).
func (s *Service) TeamEntitlements(ctx context.Context, teamID string) ([]*models.Entitlement, error) {
	p, err := s.TeamPlan(ctx, teamID)
	if err != nil {
		return nil, err
	}
	out := make([]*models.Entitlement, 0, len(models.FeatureKeys()))
	for _, k := range models.FeatureKeys() {
		d := Decide(p.Tier, models.Feature{Key: k}, p.Note)
		out = append(out, &models.Entitlement{Feature: k, Allowed: d.Allowed, Limit: d.Limit, Reason: d.Reason, RequiredTier: d.RequiredTier})
	}
	return out, nil
}

// CreateTeamCheckoutSession starts a Stripe Checkout of the team tier for the team,
// with seats seats, for userID (whom the team area let do so: an owner), and returns
// where to send them. The team's Stripe customer is created on its first checkout and
// kept; userID becomes the team's billing contact once Stripe made the session. A
// team with a subscription that is live or still incomplete (its first payment
// pending) gets CONFLICT (field teamId): one subscription per team.
func (s *Service) CreateTeamCheckoutSession(ctx context.Context, userID, teamID string, seats int) (*models.CheckoutSession, error) {
	if !s.Enabled() {
		return nil, notConfigured()
	}
	price := s.cfg.Prices[models.TierTeam]
	if price == "" {
		return nil, &models.Error{Code: models.CodeBillingNotConfigured, Field: "teamId", Message: "the TEAM tier is not for sale on this server"}
	}
	if seats < 1 || seats > maxSeats {
		return nil, models.InvalidInput("seats", "seats must be between 1 and %d, got %d", maxSeats, seats)
	}
	customerID, err := s.ensureTeamCustomer(ctx, teamID)
	if err != nil {
		return nil, err
	}
	back := s.cfg.PublicURL + "/billing?team=" + teamID + "&checkout="
	cs, err := s.stripe.createCheckoutSession(ctx, checkoutRequest{
		UserID: userID, TeamID: teamID, CustomerID: customerID, PriceID: price, Tier: models.TierTeam, Quantity: seats,
		SuccessURL: back + "success&session_id={CHECKOUT_SESSION_ID}", CancelURL: back + "canceled",
	})
	if err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := setTeamContact(ctx, tx, teamID, userID, s.now()); err != nil {
			return err
		}
		return s.auditor.RecordIn(ctx, tx, models.AuditEntry{UserID: userID, TeamID: teamID, Kind: models.AuditTeamCheckoutStarted,
			Detail: models.AuditDetail{"team": teamID, "by": userID, "seats": strconv.Itoa(seats), "session": cs.ID},
			IP:     s.clientIP(ctx), Ref: "checkout:" + cs.ID, At: s.now()})
	})
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// CreateTeamBillingPortalSession returns a Stripe billing portal page of the team's
// customer (seats, payment method, invoices, cancelling) for userID (an owner, as the
// team area decides), who becomes the team's billing contact once Stripe made the
// page. NOT_FOUND (field teamId) before the team's first checkout.
func (s *Service) CreateTeamBillingPortalSession(ctx context.Context, userID, teamID string) (*models.PortalSession, error) {
	if !s.Enabled() {
		return nil, notConfigured()
	}
	a, err := findTeamAccount(ctx, s.db, teamID)
	if isNotFound(err) || (err == nil && a.CustomerID == nil) {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "teamId", Message: "the team has no billing account yet: subscribe first (teamCheckout)"}
	}
	if err != nil {
		return nil, err
	}
	ps, err := s.stripe.createPortalSession(ctx, *a.CustomerID, s.cfg.PublicURL+"/billing?team="+teamID)
	if err != nil {
		return nil, err
	}
	if err := setTeamContact(ctx, s.db, teamID, userID, s.now()); err != nil {
		return nil, err
	}
	return ps, nil
}

// errNoTeamCustomer ends (and rolls back) the check of ensureTeamCustomer when the
// team has no Stripe customer yet: nothing is stored before Stripe made one.
var errNoTeamCustomer = errors.New("billing: the team has no Stripe customer yet")

// ensureTeamCustomer returns the team's Stripe customer, creating it the first time.
// Under the team's account lock it refuses (CONFLICT, field teamId) a team with a
// subscription that is live or incomplete: the check sees every fold committed
// before it. Nothing is stored unless Stripe made a customer.
func (s *Service) ensureTeamCustomer(ctx context.Context, teamID string) (string, error) {
	var customerID string
	check := func(ctx context.Context, tx bun.Tx) (*models.TeamBillingAccount, error) {
		a, err := lockTeamAccount(ctx, tx, teamID, s.now())
		if err != nil {
			return nil, withField(err, "teamId")
		}
		subs, err := findSubscriptionsByTeam(ctx, tx, teamID)
		if err != nil {
			return nil, err
		}
		for _, sub := range subs {
			if sub.Status.Live() || sub.Status == models.SubscriptionIncomplete {
				return nil, &models.Error{Code: models.CodeConflict, Field: "teamId", Message: fmt.Sprintf(
					"the team already has a %s subscription (%s): change its seats in the team's billing portal (teamBillingPortal)", upper(sub.PlanTier), sub.Status)}
			}
		}
		return a, nil
	}
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		a, err := check(ctx, tx)
		if err != nil {
			return err
		}
		if a.CustomerID == nil {
			return errNoTeamCustomer
		}
		customerID = *a.CustomerID
		return nil
	})
	if err == nil {
		return customerID, nil
	}
	if !errors.Is(err, errNoTeamCustomer) {
		return "", err
	}
	created, err := s.stripe.createCustomer(ctx, "inkgraph-team-customer-"+teamID, map[string]string{"team_id": teamID})
	if err != nil {
		return "", err
	}
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := check(ctx, tx); err != nil {
			return err
		}
		var err error
		customerID, err = setTeamCustomerIfNone(ctx, tx, teamID, created, s.now())
		return err
	})
	if database.IsUniqueViolation(err) {
		return "", models.Internal(err, "Stripe customer %s already belongs to another team", created)
	}
	if err != nil {
		return "", err
	}
	if customerID != created {
		s.logger.WarnContext(ctx, "a concurrent team checkout stored another Stripe customer first: this one is unused",
			"team_id", teamID, "customer_id", customerID, "unused_customer_id", created)
	}
	return customerID, nil
}

// foldIntoTeam folds all of a subscription's changes into its row for the team and
// brings the team's granted tier and seats in line, under the team's account lock.
func (s *Service) foldIntoTeam(ctx context.Context, tx bun.IDB, teamID, subscriptionID string, now time.Time) (folding, error) {
	f := folding{teamID: teamID, subscriptionID: subscriptionID}
	acct, err := lockTeamAccount(ctx, tx, teamID, now)
	if isNotFound(err) {
		return f, fmt.Errorf("fold subscription %s: team %s does not exist", subscriptionID, teamID)
	}
	if err != nil {
		return f, err
	}
	if err := s.storeFold(ctx, tx, &f, now, func(sub *models.BillingSubscription) { sub.TeamID = teamID }); err != nil {
		return f, err
	}
	f.tierChanged, err = s.grantTeam(ctx, tx, acct, now)
	return f, err
}

// grantTeam sets the team's granted tier and seats to what its current subscription
// grants at now, and records the change in the team's log (auditTeam). The caller
// holds the team's account lock.
func (s *Service) grantTeam(ctx context.Context, tx bun.IDB, acct *models.TeamBillingAccount, now time.Time) (bool, error) {
	subs, err := findSubscriptionsByTeam(ctx, tx, acct.TeamID)
	if err != nil {
		return false, err
	}
	p := s.teamPlan(subs, now)
	if p.Tier == acct.GrantedTier && p.Seats == acct.GrantedSeats {
		return false, nil
	}
	if err := updateTeamGrant(ctx, tx, acct.TeamID, p.Tier, p.Seats, now); err != nil {
		return false, err
	}
	detail := models.AuditDetail{"team": acct.TeamID, "by": "stripe", "fromTier": string(acct.GrantedTier), "toTier": string(p.Tier),
		"fromSeats": strconv.Itoa(acct.GrantedSeats), "toSeats": strconv.Itoa(p.Seats), "status": string(p.Status)}
	if cur := currentSubscription(subs, now); cur != nil {
		detail["subscription"] = cur.ID
	}
	if p.Note != "" && p.Status != models.SubscriptionNone {
		detail["reason"] = p.Note
	}
	if err := s.auditTeam(ctx, tx, acct, models.AuditTeamSeatsChanged, detail, "", now); err != nil {
		return false, err
	}
	acct.GrantedTier, acct.GrantedSeats = p.Tier, p.Seats
	return true, nil
}

// auditTeam records a billing entry of the team in the team's log, and in the
// personal log of one current owner (see the top of this file): the billing contact
// while they are an owner, else the longest-standing owner. With no owner left it
// records nothing and says so in the server's log.
func (s *Service) auditTeam(ctx context.Context, tx bun.IDB, acct *models.TeamBillingAccount, kind models.AuditKind,
	detail models.AuditDetail, ref string, now time.Time) error {
	owners, err := findTeamOwners(ctx, tx, acct.TeamID)
	if err != nil {
		return err
	}
	if len(owners) == 0 {
		s.logger.WarnContext(ctx, "a team billing entry with no owner to record it for", "team_id", acct.TeamID, "kind", kind)
		return nil
	}
	who := owners[0]
	if acct.ContactUserID != nil && slices.Contains(owners, *acct.ContactUserID) {
		who = *acct.ContactUserID
	}
	detail["team"] = acct.TeamID
	return s.auditor.RecordIn(ctx, tx, models.AuditEntry{UserID: who, TeamID: acct.TeamID, Kind: kind, Detail: detail, Ref: ref, At: now})
}

// notifyTeam tells the team's members (teamEvents, any instance) that its tier or
// seats changed, with what it has now, and stores that tier in the team's shared
// space (what the team's onboarding summary shows as its plan, as a user's account
// does; what every area reads comes from the subscription, TierOf).
func (s *Service) notifyTeam(ctx context.Context, teamID string) {
	p, err := s.TeamPlan(ctx, teamID)
	if err != nil {
		s.logger.ErrorContext(ctx, "read team plan for a team event", "error", err, "team_id", teamID)
		return
	}
	s.storeTeamTier(context.WithoutCancel(ctx), teamID, p.Tier)
	payload, err := json.Marshal(models.TeamEvent{Type: models.TeamSeatsChanged, TeamID: teamID, Tier: &p.Tier, Seats: &p.Seats, At: s.now()})
	if err == nil {
		err = s.events.Publish(context.WithoutCancel(ctx), models.TeamEventsTopic(teamID), payload)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "publish team event", "error", err, "team_id", teamID)
	}
}

// storeTeamTier stores tier in the team's shared space, reading the team's plan again
// afterwards and repeating when it moved meanwhile, so that of two concurrent
// settlements the newest tier is written last (as syncTier does for a user). What is
// stored is only shown (the team's onboarding summary): every rule reads TierOf.
func (s *Service) storeTeamTier(ctx context.Context, teamID string, tier models.Tier) {
	for range 5 {
		if _, err := s.accounts.SetTier(ctx, teamID, tier); err != nil {
			s.logger.ErrorContext(ctx, "store a team space's tier", "error", err, "team_id", teamID)
			return
		}
		again, err := s.TeamPlan(ctx, teamID)
		if err != nil || again.Tier == tier {
			return
		}
		tier = again.Tier
	}
}

// withField names field on an application error that names none.
func withField(err error, field string) error {
	var e *models.Error
	if errors.As(err, &e) && e.Field == "" && e.Code != models.CodeInternal {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

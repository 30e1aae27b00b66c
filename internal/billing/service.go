// Package billing owns what a user pays for and what that allows: Stripe customers,
// checkout and billing portal sessions, cancelling and resuming, Stripe's webhooks
// (verified, processed once each, folded in Stripe's order whatever order they
// arrive in), the tier a subscription grants (with a grace period after a failed
// payment, and the seats of the team tier) — the one tier lookup every area reads
// (TierOf, TierAndSeats) — the billing events a client subscribes to and feature
// gating over the tier matrix (Allowed, Entitlements). What it does to a user's
// account it records in the audit log (internal/audit) through Auditor, in the
// transaction of the change. stripe.go is the only file that talks to Stripe;
// nothing here serves HTTP (the webhook endpoint is internal/api/webhookhttp).
//
// Without a Stripe secret key billing is off: checkout, the portal, cancelling and
// resuming answer BILLING_NOT_CONFIGURED, and everything else works on the tiers
// users have (free unless set otherwise).
package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Accounts is the tier the accounts area (auth) stores in a user's account. Billing
// sets it when the tier it grants changes (the stored tier is what holds when no
// subscription decides), and reads it only then: when the user never subscribed or
// their last subscription ended, so that a tier an operator set still holds.
type Accounts interface {
	SetTier(ctx context.Context, userID string, tier models.Tier) (bool, error)
	TierOf(ctx context.Context, userID string) (models.Tier, error)
}

// Events carries billing events between server instances; events.Bus satisfies it.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

// Config is billing's configuration (see internal/platform/config).
type Config struct {
	// SecretKey is Stripe's secret key; empty turns billing off.
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint; empty refuses
	// every webhook.
	WebhookSecret string
	// APIBase is Stripe's API base URL; empty means Stripe's own.
	APIBase string
	// Prices maps each paid tier to its Stripe price ID.
	Prices map[models.Tier]string
	// PublicURL is where the frontend lives: checkout and the portal send the user
	// back to PublicURL/billing.
	PublicURL string
	// PastDueGrace is how long a subscription whose payment failed keeps its tier.
	PastDueGrace time.Duration
	// HTTPClient sends Stripe's API requests; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// Deps are what the service is built from besides its Config.
type Deps struct {
	DB       bun.IDB
	Accounts Accounts
	// Audit records what billing changes in the users' audit logs.
	Audit  Auditor
	Events Events
	Logger *slog.Logger
	Now    func() time.Time
	// ClientIP returns the client's address of a request's context, "" when unknown,
	// for the audit log; nil records none.
	ClientIP func(ctx context.Context) string
}

// Service implements the billing area.
type Service struct {
	cfg      Config
	db       bun.IDB
	accounts Accounts
	auditor  Auditor
	events   Events
	logger   *slog.Logger
	clock    func() time.Time
	clientIP func(ctx context.Context) string

	stripe      *stripeAPI // nil when billing is off
	tierOfPrice map[string]models.Tier
}

// maxSeats bounds a team checkout's quantity.
const maxSeats = 1000

// NewService returns the billing service.
func NewService(cfg Config, d Deps) (*Service, error) {
	if d.DB == nil || d.Accounts == nil || d.Audit == nil || d.Events == nil {
		return nil, errors.New("billing: DB, Accounts, Audit and Events are required")
	}
	if cfg.PastDueGrace < 0 {
		return nil, fmt.Errorf("billing: the past-due grace must not be negative, got %s", cfg.PastDueGrace)
	}
	if cfg.PastDueGrace == 0 {
		cfg.PastDueGrace = 72 * time.Hour
	}
	tierOfPrice := make(map[string]models.Tier, len(cfg.Prices))
	for tier, price := range cfg.Prices {
		if !tier.Valid() || tier == models.TierFree {
			return nil, fmt.Errorf("billing: a price is configured for %q, which is not a paid tier", tier)
		}
		if price == "" {
			continue
		}
		if other, dup := tierOfPrice[price]; dup {
			return nil, fmt.Errorf("billing: price %s is configured for both %s and %s", price, other, tier)
		}
		tierOfPrice[price] = tier
	}
	if cfg.SecretKey != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("billing: the public URL must be an http(s) URL, got %q", cfg.PublicURL)
		}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientIP == nil {
		d.ClientIP = func(context.Context) string { return "" }
	}
	s := &Service{cfg: cfg, db: d.DB, accounts: d.Accounts, auditor: d.Audit, events: d.Events, logger: d.Logger,
		clock: d.Now, clientIP: d.ClientIP, tierOfPrice: tierOfPrice}
	if cfg.SecretKey != "" {
		s.stripe = newStripeAPI(cfg, d.Logger)
	}
	return s, nil
}

// Enabled reports whether Stripe is configured.
func (s *Service) Enabled() bool { return s.stripe != nil }

// now is the clock in UTC, to the microsecond: what both dialects store unchanged.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", models.Internal(err, "new id")
	}
	return id.String(), nil
}

func notConfigured() error {
	return models.Errorf(models.CodeBillingNotConfigured,
		"billing is not configured on this server: everyone is on the tier they have (free unless set otherwise)")
}

// --- checkout and the portal ---

// CreateCheckoutSession starts a Stripe Checkout for tier (seats counts for the
// team tier only) and returns where to send the user. The user's Stripe customer is
// created on their first checkout and kept.
func (s *Service) CreateCheckoutSession(ctx context.Context, userID string, tier models.Tier, seats int) (*models.CheckoutSession, error) {
	if !s.Enabled() {
		return nil, notConfigured()
	}
	if !tier.Valid() || tier == models.TierFree {
		return nil, models.InvalidInput("tier", "choose a paid tier to subscribe to (PRO, POWER or TEAM), not %q", tier)
	}
	price := s.cfg.Prices[tier]
	if price == "" {
		return nil, models.InvalidInput("tier", "the %s tier is not for sale on this server", tier)
	}
	switch {
	case seats < 1 || seats > maxSeats:
		return nil, models.InvalidInput("seats", "seats must be between 1 and %d, got %d", maxSeats, seats)
	case seats > 1 && tier != models.TierTeam:
		return nil, models.InvalidInput("seats", "only the TEAM tier is sold per seat")
	}
	subs, err := findSubscriptionsByUser(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	if cur := currentSubscription(subs, s.now()); cur != nil && cur.Status.Live() {
		return nil, models.Errorf(models.CodeConflict,
			"you already have a %s subscription (%s): change or cancel it in the billing portal", cur.PlanTier, cur.Status)
	}
	customerID, err := s.ensureCustomer(ctx, userID)
	if err != nil {
		return nil, err
	}
	cs, err := s.stripe.createCheckoutSession(ctx, checkoutRequest{
		UserID: userID, CustomerID: customerID, PriceID: price, Tier: tier, Quantity: seats,
		SuccessURL: s.cfg.PublicURL + "/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  s.cfg.PublicURL + "/billing?checkout=canceled",
	})
	if err != nil {
		return nil, err
	}
	detail := models.AuditDetail{"tier": string(tier), "seats": fmt.Sprint(seats), "session": cs.ID}
	if err := s.audit(ctx, s.db, userID, models.AuditCheckoutStarted, detail, s.clientIP(ctx), "checkout:"+cs.ID, s.now()); err != nil {
		return nil, err
	}
	return cs, nil
}

// ensureCustomer returns the user's Stripe customer, creating it the first time.
// Concurrent first checkouts send Stripe the same idempotency key and get one
// customer back; the first stored wins in any case.
func (s *Service) ensureCustomer(ctx context.Context, userID string) (string, error) {
	a, err := findAccount(ctx, s.db, userID)
	switch {
	case isNotFound(err):
		// The first checkout creates the account (NOT_FOUND when the user is gone).
		err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			_, err := lockAccount(ctx, tx, userID, s.now())
			return err
		})
		if err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case a.CustomerID != nil:
		return *a.CustomerID, nil
	}
	created, err := s.stripe.createCustomer(ctx, "inkgraph-customer-"+userID, map[string]string{"user_id": userID})
	if err != nil {
		return "", err
	}
	stored, err := setCustomerIfNone(ctx, s.db, userID, created, s.now())
	if database.IsUniqueViolation(err) {
		return "", models.Internal(err, "Stripe customer %s already belongs to another user", created)
	}
	if err != nil {
		return "", err
	}
	if stored != created {
		s.logger.WarnContext(ctx, "a concurrent checkout stored another Stripe customer first: this one is unused",
			"user_id", userID, "customer_id", stored, "unused_customer_id", created)
	}
	return stored, nil
}

// CreateBillingPortalSession returns a Stripe billing portal page for the user,
// which sends them back to PublicURL/billing.
func (s *Service) CreateBillingPortalSession(ctx context.Context, userID string) (*models.PortalSession, error) {
	if !s.Enabled() {
		return nil, notConfigured()
	}
	a, err := findAccount(ctx, s.db, userID)
	if isNotFound(err) || (err == nil && a.CustomerID == nil) {
		return nil, models.Errorf(models.CodeNotFound, "there is no billing account yet: subscribe first (createCheckoutSession)")
	}
	if err != nil {
		return nil, err
	}
	return s.stripe.createPortalSession(ctx, *a.CustomerID, s.cfg.PublicURL+"/billing")
}

// --- cancelling and resuming ---

// CancelSubscription asks Stripe to end the user's subscription at the end of the
// period paid for; the tier stays until then.
func (s *Service) CancelSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error) {
	return s.setCancelAtPeriodEnd(ctx, userID, true)
}

// ResumeSubscription undoes CancelSubscription while the period lasts.
func (s *Service) ResumeSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error) {
	return s.setCancelAtPeriodEnd(ctx, userID, false)
}

func (s *Service) setCancelAtPeriodEnd(ctx context.Context, userID string, cancel bool) (*models.BillingSubscription, error) {
	if !s.Enabled() {
		return nil, notConfigured()
	}
	subs, err := findSubscriptionsByUser(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	cur := currentSubscription(subs, s.now())
	if cur == nil || !cur.Status.Live() {
		return nil, models.Errorf(models.CodeNotFound, "you have no subscription to cancel or resume")
	}
	answer, requestID, err := s.stripe.setCancelAtPeriodEnd(ctx, cur.ID, cancel)
	if err != nil {
		return nil, err
	}
	res, err := s.recordAPIAnswer(ctx, holder{userID: userID}, cur.CustomerID, answer, 0)
	if err != nil {
		return nil, err
	}
	kind := models.AuditSubscriptionResumed
	if cancel {
		kind = models.AuditSubscriptionCanceled
	}
	detail := models.AuditDetail{"subscription": cur.ID, "source": "inkgraph"}
	if answer.CurrentPeriodEnd != 0 {
		detail["periodEnd"] = time.Unix(answer.CurrentPeriodEnd, 0).UTC().Format(time.RFC3339)
	}
	if err := s.audit(ctx, s.db, userID, kind, detail, s.clientIP(ctx), requestID, s.now()); err != nil {
		return nil, err
	}
	if err := s.settle(ctx, res); err != nil {
		return nil, err
	}
	return s.Subscription(ctx, userID)
}

// --- reading ---

// Subscription returns the user's current subscription with the tier it grants
// now (free once a failed payment's grace has ended, even before the sweep), or
// status NONE and the user's tier when they never subscribed.
func (s *Service) Subscription(ctx context.Context, userID string) (*models.BillingSubscription, error) {
	st, err := s.standing(ctx, userID)
	if err != nil {
		return nil, err
	}
	if st.current == nil {
		return &models.BillingSubscription{UserID: userID, Status: models.SubscriptionNone, PlanTier: models.TierFree, Tier: st.tier}, nil
	}
	st.current.Tier = st.tier
	return st.current, nil
}

// TierOf returns the tier billing grants the user now: what their subscription
// grants (free once a failed payment's grace has ended, even before the sweep), or
// the account's tier when no subscription decides. It is the one tier lookup of
// every area whose limits depend on the tier.
func (s *Service) TierOf(ctx context.Context, userID string) (models.Tier, error) {
	st, err := s.standing(ctx, userID)
	return st.tier, err
}

// TierAndSeats returns what TierOf does and the seats billed with it: the
// subscription's quantity on a per-seat tier (team), 1 otherwise. The per-tier rate
// limit reads it.
func (s *Service) TierAndSeats(ctx context.Context, userID string) (models.Tier, int, error) {
	st, err := s.standing(ctx, userID)
	return st.tier, st.seats, err
}

// standing is what a user has from billing now.
type standing struct {
	tier  models.Tier
	seats int
	// note, when not empty, says why the tier is lower than the plan's (a failed
	// payment whose grace ended).
	note string
	// current is the subscription that decides the user's tier, ended or not; nil
	// when they never subscribed.
	current *models.BillingSubscription
}

// standing reads the user's subscriptions and decides what they have at now. For a
// team's shared space (a users row with the team's ID) they are the team's. A
// subscription that has not ended decides from billing's own state. Without one
// (never subscribed, or the last one ended) the account's tier decides: free since
// the subscription ended, unless an operator set another; a team whose subscription
// ended is free.
func (s *Service) standing(ctx context.Context, userID string) (standing, error) {
	subs, err := findSubscriptionsOfSpace(ctx, s.db, userID)
	if err != nil {
		return standing{}, err
	}
	now := s.now()
	st := standing{seats: 1, current: currentSubscription(subs, now)}
	if cur := st.current; cur != nil && !cur.Status.Terminal() {
		st.tier = effectiveTier(cur, now)
		if models.FeaturesOf(st.tier).PerSeat {
			st.seats = max(cur.Seats, 1)
		}
		if graceExpired(cur, now) && cur.PlanTier != models.TierFree {
			st.note = fmt.Sprintf("a payment failed and the grace period ended on %s: update your payment method in the billing portal to get %s back",
				cur.GraceUntil.Format("2006-01-02 15:04 MST"), cur.PlanTier)
		}
		return st, nil
	}
	if cur := st.current; cur != nil && cur.TeamID != "" {
		// A team whose subscription ended is free, as TeamPlan says: the tier its space
		// stores (notifyTeam's, after the fact and best effort) is what its onboarding
		// shows, never what it gets.
		st.tier = models.TierFree
		return st, nil
	}
	st.tier, err = s.accounts.TierOf(ctx, userID)
	return st, err
}

// --- the grace sweep ---

// ExpireGrace takes the paid tier from every user and team whose failed payment's
// grace has ended, and returns how many lost it. Reads (TierOf, and every area through it)
// already treat such users as free; this brings the granted tier, the audit log,
// subscribers and the account's stored tier in line. Run it periodically; running it
// again changes nothing.
func (s *Service) ExpireGrace(ctx context.Context) (int, error) {
	users, err := findUsersPastGrace(ctx, s.db, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, userID := range users {
		var changed bool
		err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			now := s.now()
			acct, err := lockAccount(ctx, tx, userID, now)
			if isNotFound(err) {
				return nil // the user is gone
			}
			if err != nil {
				return err
			}
			changed, err = s.grant(ctx, tx, acct, now)
			return err
		})
		if err == nil && changed {
			n++
			err = s.settle(ctx, outcome{folded: []folding{{userID: userID, tierChanged: true}}})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("expire grace of %s: %w", userID, err))
		}
	}
	teams, err := findTeamsPastGrace(ctx, s.db, s.now())
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, teamID := range teams {
		var changed bool
		err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			acct, err := lockTeamAccount(ctx, tx, teamID, s.now())
			if isNotFound(err) {
				return nil // the team is gone
			}
			if err != nil {
				return err
			}
			changed, err = s.grantTeam(ctx, tx, acct, s.now())
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("expire grace of team %s: %w", teamID, err))
			continue
		}
		if changed {
			n++
			s.notifyTeam(ctx, teamID)
		}
	}
	return n, errors.Join(errs...)
}

// --- the account's tier and subscribers ---

// syncTier sets the account's tier to the granted one. It reads the granted tier
// again afterwards and repeats when it moved meanwhile, so whichever of two
// concurrent settlements writes last writes the newest tier.
func (s *Service) syncTier(ctx context.Context, userID string) error {
	for range 5 {
		a, err := findAccount(ctx, s.db, userID)
		if isNotFound(err) {
			return nil // nothing granted yet: the account's tier stands
		}
		if err != nil {
			return err
		}
		if _, err := s.accounts.SetTier(ctx, userID, a.GrantedTier); err != nil {
			return fmt.Errorf("billing: set the tier of %s: %w", userID, err)
		}
		again, err := findAccount(ctx, s.db, userID)
		if err != nil {
			return err
		}
		if again.GrantedTier == a.GrantedTier {
			return nil
		}
	}
	return fmt.Errorf("billing: the tier of %s kept changing", userID)
}

func billingTopic(userID string) string { return "billing." + userID }

// notify tells the user's subscribers what changed, with the state as it is now.
func (s *Service) notify(ctx context.Context, f folding) {
	if !f.changed && !f.tierChanged {
		return
	}
	sub, err := s.Subscription(ctx, f.userID)
	if err != nil {
		s.logger.ErrorContext(ctx, "read subscription for billing event", "error", err, "user_id", f.userID)
		return
	}
	e := models.BillingEvent{Type: models.BillingSubscriptionUpdated, Tier: sub.Tier, Status: sub.Status,
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd, At: s.now()}
	if f.tierChanged {
		e.Type = models.BillingTierChanged
	}
	payload, err := json.Marshal(e)
	if err == nil {
		err = s.events.Publish(context.WithoutCancel(ctx), billingTopic(f.userID), payload)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "publish billing event", "error", err, "user_id", f.userID)
	}
}

// BillingEvents streams the user's billing events, from any server instance, until
// ctx ends. Delivery is at most once: an event is a cue to read the subscription.
func (s *Service) BillingEvents(ctx context.Context, userID string) (<-chan *models.BillingEvent, error) {
	in, err := s.events.Subscribe(ctx, billingTopic(userID))
	if err != nil {
		return nil, models.Internal(err, "subscribe to billing events")
	}
	out := make(chan *models.BillingEvent, 1)
	go func() {
		defer close(out)
		for payload := range in {
			e := new(models.BillingEvent)
			if err := json.Unmarshal(payload, e); err != nil {
				s.logger.ErrorContext(ctx, "decode billing event", "error", err)
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

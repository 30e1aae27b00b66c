package models

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// SubscriptionStatus is where a subscription stands, as Stripe says (upper case), or
// NONE for a user who never subscribed.
type SubscriptionStatus string

const (
	SubscriptionNone              SubscriptionStatus = "NONE"
	SubscriptionIncomplete        SubscriptionStatus = "INCOMPLETE"
	SubscriptionIncompleteExpired SubscriptionStatus = "INCOMPLETE_EXPIRED"
	SubscriptionTrialing          SubscriptionStatus = "TRIALING"
	SubscriptionActive            SubscriptionStatus = "ACTIVE"
	SubscriptionPastDue           SubscriptionStatus = "PAST_DUE"
	SubscriptionCanceled          SubscriptionStatus = "CANCELED"
	SubscriptionUnpaid            SubscriptionStatus = "UNPAID"
	SubscriptionPaused            SubscriptionStatus = "PAUSED"
)

// Live reports whether the subscription is being paid for, or was until a payment
// failed: the states a second checkout must not run beside.
func (s SubscriptionStatus) Live() bool {
	switch s {
	case SubscriptionActive, SubscriptionTrialing, SubscriptionPastDue, SubscriptionUnpaid, SubscriptionPaused:
		return true
	}
	return false
}

// Terminal reports whether Stripe never moves the subscription out of this state.
func (s SubscriptionStatus) Terminal() bool {
	return s == SubscriptionCanceled || s == SubscriptionIncompleteExpired
}

// BillingSubscription is a Stripe subscription of a user, as Inkgraph last folded it from
// Stripe's events (see internal/billing). A user may have several over time; the
// billing service picks the current one.
type BillingSubscription struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID string `bun:"id,pk"` // Stripe's subscription ID, sub_…
	// UserID is the user the subscription serves, or TeamID the team: exactly one is set.
	UserID     string `bun:"user_id,nullzero"`
	TeamID     string `bun:"team_id,nullzero"`
	CustomerID string `bun:"customer_id,notnull"`
	PriceID    string `bun:"price_id,notnull"`
	// PlanTier is the tier the subscription's price buys (free for a price the
	// configuration does not know).
	PlanTier          Tier               `bun:"plan_tier,notnull"`
	Status            SubscriptionStatus `bun:"status,notnull"`
	Seats             int                `bun:"seats,notnull"`
	CurrentPeriodEnd  *time.Time         `bun:"current_period_end"`
	CancelAtPeriodEnd bool               `bun:"cancel_at_period_end,notnull"`
	// PastDueSince is when a payment first failed in the current run of failures;
	// GraceUntil is PastDueSince plus the configured grace, after which the plan's
	// tier is no longer granted.
	PastDueSince *time.Time `bun:"past_due_since"`
	GraceUntil   *time.Time `bun:"grace_until"`
	StartedAt    *time.Time `bun:"started_at"`
	// LastEventAt is the `created` time of the newest Stripe event folded in.
	LastEventAt *time.Time `bun:"last_event_at"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`

	// Tier is what the subscription grants when it is read: PlanTier while active,
	// trialing or within the grace of a failed payment, free otherwise.
	Tier Tier `bun:"-"`
}

// SubscriptionSnapshot is the part of a Stripe subscription object Inkgraph keeps,
// as Stripe sent it at one moment (in an event or an API response).
type SubscriptionSnapshot struct {
	CustomerID        string             `json:"customerId"`
	Status            SubscriptionStatus `json:"status"`
	PriceID           string             `json:"priceId"`
	Quantity          int                `json:"quantity"`
	CurrentPeriodEnd  int64              `json:"currentPeriodEnd,omitempty"` // Unix seconds
	CancelAtPeriodEnd bool               `json:"cancelAtPeriodEnd"`
	Created           int64              `json:"created,omitempty"` // Unix seconds
	UserID            string             `json:"userId,omitempty"`  // metadata.user_id
}

// ChangeKind tells apart what a subscription change says.
type ChangeKind string

const (
	// ChangeSnapshot carries the whole subscription object.
	ChangeSnapshot ChangeKind = "SNAPSHOT"
	// ChangePaymentFailed and ChangePaid are invoice events of the subscription.
	ChangePaymentFailed ChangeKind = "PAYMENT_FAILED"
	ChangePaid          ChangeKind = "PAID"
)

// ChangeSource says where a change came from.
type ChangeSource string

const (
	SourceEvent ChangeSource = "EVENT" // a verified webhook event
	SourceAPI   ChangeSource = "API"   // Stripe's answer to a call Inkgraph made
)

// SubscriptionChange is one thing Stripe said about a subscription. A subscription's
// state is the fold of all its changes in Stripe's order (see internal/billing), so
// the order they arrive in does not matter.
type SubscriptionChange struct {
	bun.BaseModel `bun:"table:subscription_changes"`

	ID             string                `bun:"id,pk"`
	SubscriptionID string                `bun:"subscription_id,notnull"`
	CustomerID     string                `bun:"customer_id,notnull"`
	EventID        *string               `bun:"event_id"` // nil for API answers
	Kind           ChangeKind            `bun:"kind,notnull"`
	Source         ChangeSource          `bun:"source,notnull"`
	Created        int64                 `bun:"created,notnull"`  // Stripe's Unix seconds
	Rank           int                   `bun:"tie_rank,notnull"` // orders changes of the same second
	Snapshot       *SubscriptionSnapshot `bun:"snapshot,type:text"`
	RecordedAt     time.Time             `bun:"recorded_at,notnull"`
}

// EventOutcome says what processing a Stripe event did.
type EventOutcome string

const (
	OutcomeApplied  EventOutcome = "APPLIED"  // folded into a user's subscription
	OutcomeUnlinked EventOutcome = "UNLINKED" // kept until its customer is linked to a user
	OutcomeIgnored  EventOutcome = "IGNORED"  // a type or object Inkgraph does not act on
)

// StripeEvent records a Stripe event that was verified and processed: its ID is
// unique, so each event is acted on once however often Stripe delivers it.
type StripeEvent struct {
	bun.BaseModel `bun:"table:stripe_events"`

	ID             string       `bun:"id,pk"`
	Type           string       `bun:"type,notnull"`
	Created        time.Time    `bun:"created,notnull"` // Stripe's time of the event
	UserID         *string      `bun:"user_id"`
	SubscriptionID *string      `bun:"subscription_id"`
	Outcome        EventOutcome `bun:"outcome,notnull"`
	ReceivedAt     time.Time    `bun:"received_at,notnull"`
	ProcessedAt    time.Time    `bun:"processed_at,notnull"`
}

// BillingAccount is a user's side of billing: their Stripe customer, created once,
// and the tier billing last granted them.
type BillingAccount struct {
	bun.BaseModel `bun:"table:billing_accounts"`

	UserID      string    `bun:"user_id,pk"`
	CustomerID  *string   `bun:"customer_id"`
	GrantedTier Tier      `bun:"granted_tier,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// TeamBillingAccount is what billing keeps of a team: its Stripe customer, the tier
// and seats its subscription grants (as of the last change folded), and the user the
// team's billing entries are recorded for (the owner who last opened checkout or the
// portal; nil once that user is gone).
type TeamBillingAccount struct {
	bun.BaseModel `bun:"table:team_billing_accounts"`

	TeamID        string    `bun:"team_id,pk"`
	CustomerID    *string   `bun:"customer_id"`
	ContactUserID *string   `bun:"contact_user_id"`
	GrantedTier   Tier      `bun:"granted_tier,notnull"`
	GrantedSeats  int       `bun:"granted_seats,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
}

// CheckoutSession is a Stripe Checkout page the user is sent to.
type CheckoutSession struct {
	ID  string
	URL string
}

// PortalSession is a Stripe billing portal page the user is sent to.
type PortalSession struct {
	URL string
}

// BillingEventType tells apart what billingEvents reports.
type BillingEventType string

const (
	// BillingSubscriptionUpdated: the subscription changed (status, period, cancellation).
	BillingSubscriptionUpdated BillingEventType = "SUBSCRIPTION_UPDATED"
	// BillingTierChanged: the tier the user is granted changed.
	BillingTierChanged BillingEventType = "TIER_CHANGED"
)

// BillingEvent tells a signed-in client that its subscription or tier changed.
type BillingEvent struct {
	Type              BillingEventType   `json:"type"`
	Tier              Tier               `json:"tier"`
	Status            SubscriptionStatus `json:"status"`
	CancelAtPeriodEnd bool               `json:"cancelAtPeriodEnd"`
	At                time.Time          `json:"at"`
}

// --- feature gating ---

// FeatureKey names something a tier may allow (a column of the feature matrix).
type FeatureKey string

const (
	FeatureAgents    FeatureKey = "AGENTS"    // metered: how many chat agents
	FeatureBatch     FeatureKey = "BATCH"     // batch runs of playbooks
	FeatureProviders FeatureKey = "PROVIDERS" // metered: how many LLM providers
	FeatureBackup    FeatureKey = "BACKUP"    // metered: backup storage in bytes
	FeatureBYOK      FeatureKey = "BYOK"      // chat paid with the user's own keys
	FeatureSSO       FeatureKey = "SSO"       // single sign-on
)

// FeatureKeys lists every feature, in the order entitlements show them.
func FeatureKeys() []FeatureKey {
	return []FeatureKey{FeatureAgents, FeatureBatch, FeatureProviders, FeatureBackup, FeatureBYOK, FeatureSSO}
}

// Metered reports whether the feature has a quantity limit rather than being on or off.
func (k FeatureKey) Metered() bool {
	return k == FeatureAgents || k == FeatureProviders || k == FeatureBackup
}

// Valid reports whether k is a known feature.
func (k FeatureKey) Valid() bool {
	for _, f := range FeatureKeys() {
		if f == k {
			return true
		}
	}
	return false
}

// Feature is what a gate asks about: a feature and, for a metered one, the total
// amount the user would have if the action went ahead (4 agents, 3 GiB of backups).
type Feature struct {
	Key    FeatureKey
	Amount int64
}

// Agents asks whether the user may have n chat agents.
func Agents(n int) Feature { return Feature{Key: FeatureAgents, Amount: int64(n)} }

// Providers asks whether the user may configure n LLM providers.
func Providers(n int) Feature { return Feature{Key: FeatureProviders, Amount: int64(n)} }

// Backup asks whether the user may store n bytes of backups.
func Backup(n int64) Feature { return Feature{Key: FeatureBackup, Amount: n} }

// Batch, BYOK and SSO ask for an on/off feature.
func Batch() Feature { return Feature{Key: FeatureBatch} }
func BYOK() Feature  { return Feature{Key: FeatureBYOK} }
func SSO() Feature   { return Feature{Key: FeatureSSO} }

// Limit is the tier's limit of a metered feature (Unlimited for none), or for an
// on/off one 1 when allowed and 0 when not.
func (f Features) Limit(k FeatureKey) int64 {
	on := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	switch k {
	case FeatureAgents:
		return int64(f.Agents)
	case FeatureProviders:
		return int64(f.Providers)
	case FeatureBackup:
		return f.BackupBytes
	case FeatureBatch:
		return on(f.Batch)
	case FeatureBYOK:
		return on(f.BYOK)
	case FeatureSSO:
		return on(f.SSO)
	}
	return 0
}

// Allows reports whether the tier allows the feature in the amount asked; an amount
// below 1 asks for any at all.
func (f Features) Allows(want Feature) bool {
	limit := f.Limit(want.Key)
	if limit == Unlimited {
		return true
	}
	return max(want.Amount, 1) <= limit
}

// Decision answers whether a user may use a feature, and when not, why and which tier
// would allow it.
type Decision struct {
	Feature FeatureKey
	Allowed bool
	// Reason says why not, in words for the user ("" when allowed).
	Reason string
	// RequiredTier is the cheapest tier that allows the request, "" when allowed or
	// when no tier does.
	RequiredTier Tier
	// Tier is the user's effective tier the decision was made for.
	Tier Tier
	// Limit is the tier's limit of a metered feature, nil when unlimited or on/off.
	Limit *int64
}

// Upgrade is RequiredTier for GraphQL, where null means none.
func (d *Decision) Upgrade() *Tier { return tierOrNil(d.RequiredTier) }

// Entitlement is one feature as a user's effective tier has it.
type Entitlement struct {
	Feature FeatureKey
	Allowed bool
	// Limit is the metered feature's limit, nil when unlimited or on/off.
	Limit *int64
	// Reason says why not, "" when allowed.
	Reason string
	// RequiredTier is the cheapest tier that allows the feature at all, "" when allowed.
	RequiredTier Tier
}

// Upgrade is RequiredTier for GraphQL, where null means none.
func (e *Entitlement) Upgrade() *Tier { return tierOrNil(e.RequiredTier) }

func tierOrNil(t Tier) *Tier {
	if t == "" {
		return nil
	}
	return &t
}

// --- audit log ---

// AuditKind is what an audit entry records.
type AuditKind string

const (
	AuditLogin                AuditKind = "LOGIN"
	AuditLoginFailed          AuditKind = "LOGIN_FAILED"
	AuditLogout               AuditKind = "LOGOUT"
	AuditProviderKeySaved     AuditKind = "PROVIDER_KEY_SAVED"
	AuditProviderKeyDeleted   AuditKind = "PROVIDER_KEY_DELETED"
	AuditTierChanged          AuditKind = "TIER_CHANGED"
	AuditCheckoutStarted      AuditKind = "CHECKOUT_STARTED"
	AuditSubscriptionCanceled AuditKind = "SUBSCRIPTION_CANCELED"
	AuditSubscriptionResumed  AuditKind = "SUBSCRIPTION_RESUMED"
	AuditSubscriptionEnded    AuditKind = "SUBSCRIPTION_ENDED"
	AuditPaymentFailed        AuditKind = "PAYMENT_FAILED"
	AuditAPIKeyCreated        AuditKind = "API_KEY_CREATED" //nolint:gosec // an event name, not a credential
	AuditAPIKeyRevoked        AuditKind = "API_KEY_REVOKED" //nolint:gosec // an event name, not a credential
	AuditSessionRevoked       AuditKind = "SESSION_REVOKED"
	AuditAPIKeyUsed           AuditKind = "API_KEY_USED" //nolint:gosec // an event name, not a credential
	// Team events, in the acting user's log (detail: team, and what changed).
	AuditTeamInvitationCreated  AuditKind = "TEAM_INVITATION_CREATED"
	AuditTeamInvitationAccepted AuditKind = "TEAM_INVITATION_ACCEPTED"
	AuditTeamInvitationRevoked  AuditKind = "TEAM_INVITATION_REVOKED"
	AuditTeamRoleChanged        AuditKind = "TEAM_ROLE_CHANGED"
	AuditTeamMemberRemoved      AuditKind = "TEAM_MEMBER_REMOVED"
	AuditTeamMemberLeft         AuditKind = "TEAM_MEMBER_LEFT"
	AuditTeamOwnershipTransfer  AuditKind = "TEAM_OWNERSHIP_TRANSFERRED"
	// AuditTeamCheckoutStarted: an owner started a checkout for the team's seats
	// (detail: team, seats, session).
	AuditTeamCheckoutStarted AuditKind = "TEAM_CHECKOUT_STARTED"
	// AuditTeamSeatsChanged: the team's subscription changed its tier or paid seats
	// (detail: team, fromTier, toTier, fromSeats, toSeats, subscription, status), in
	// the log of the team's billing contact (the owner who last opened checkout or the
	// portal) and the team's.
	AuditTeamSeatsChanged AuditKind = "TEAM_SEATS_CHANGED"
	// AuditTeamDeleted: an owner deleted the team (detail: team, name, members).
	AuditTeamDeleted AuditKind = "TEAM_DELETED"
	// AuditTeamBrandEdited: an owner or admin, acting in the team, ran a change of
	// what the team shares (detail: team, field: the operation's root field, such as
	// updateBusinessInfo or savePlaybook, outcome: ok or the code it answered), in
	// their log and the team's.
	AuditTeamBrandEdited AuditKind = "TEAM_BRAND_EDITED"
)

// AuditKinds lists every kind.
func AuditKinds() []AuditKind {
	return []AuditKind{AuditLogin, AuditLoginFailed, AuditLogout, AuditProviderKeySaved, AuditProviderKeyDeleted,
		AuditTierChanged, AuditCheckoutStarted, AuditSubscriptionCanceled, AuditSubscriptionResumed,
		AuditSubscriptionEnded, AuditPaymentFailed, AuditAPIKeyCreated, AuditAPIKeyRevoked, AuditAPIKeyUsed, AuditSessionRevoked,
		AuditTeamInvitationCreated, AuditTeamInvitationAccepted, AuditTeamInvitationRevoked, AuditTeamRoleChanged,
		AuditTeamMemberRemoved, AuditTeamMemberLeft, AuditTeamOwnershipTransfer, AuditTeamCheckoutStarted,
		AuditTeamSeatsChanged, AuditTeamDeleted, AuditTeamBrandEdited}
}

// Valid reports whether k is a known kind.
func (k AuditKind) Valid() bool {
	for _, v := range AuditKinds() {
		if v == k {
			return true
		}
	}
	return false
}

// AuditDetail is what an entry says beyond its kind, as short strings by name
// (e.g. from: "free", to: "pro"). It never holds secrets.
type AuditDetail map[string]string

// AuditEntry is one security- or money-relevant event of a user's account.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID     string `bun:"id,pk"`
	UserID string `bun:"user_id,notnull"`
	// TeamID names the team of a team event ("" for others): the team's log lists it.
	TeamID string      `bun:"team_id,nullzero"`
	Kind   AuditKind   `bun:"kind,notnull"`
	Detail AuditDetail `bun:"detail,type:text,notnull"`
	// IP is the client's address when the entry came from a request, "" otherwise.
	IP string `bun:"ip,notnull"`
	// Ref makes an entry idempotent: two entries of one user and kind with the same
	// non-empty Ref are one (e.g. a Stripe request seen in its answer and its webhook).
	Ref string    `bun:"ref,notnull"`
	At  time.Time `bun:"at,notnull"`
}

// AuditField is one name and value of an entry's detail.
type AuditField struct {
	Key   string
	Value string
}

// Details returns the detail as fields sorted by name, for GraphQL.
func (e *AuditEntry) Details() []*AuditField {
	out := make([]*AuditField, 0, len(e.Detail))
	for k, v := range e.Detail {
		out = append(out, &AuditField{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// AuditEdge is an entry with the cursor that continues after it.
type AuditEdge struct {
	Cursor string
	Node   *AuditEntry
}

// PageInfo says where a page of a connection ends.
type PageInfo struct {
	EndCursor   *string
	HasNextPage bool
}

// AuditConnection is one page of a user's audit log, newest first.
type AuditConnection struct {
	Edges    []*AuditEdge
	PageInfo PageInfo
}

// String renders a detail for logs.
func (d AuditDetail) String() string {
	b, err := json.Marshal(map[string]string(d))
	if err != nil {
		return fmt.Sprint(map[string]string(d))
	}
	return string(b)
}

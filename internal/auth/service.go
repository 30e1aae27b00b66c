// Package auth owns accounts: registration, signing in (with budgets of attempts per
// email address and per client address), access tokens (HS256 JWT) and refresh tokens
// (rotated on every use, grouped in sessions whose reuse revokes them), each
// instance's set of revoked sessions that stops their access tokens at once
// (Revocations), signing in with an external identity provider's ID token (provider.go),
// the tier stored in a user's account (set by billing, or by an
// operator), and the account events a signed-in client subscribes to. What it does to an account it records in the audit
// log (internal/audit) through Auditor.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/models"
)

// Events carries account events between server instances; events.Bus satisfies it.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

// Config configures the service.
type Config struct {
	Tokens     TokenConfig
	RefreshTTL time.Duration
	BcryptCost int
	// ReuseGrace is how long after a refresh token was rotated a second use of it is
	// taken for a concurrent refresh (two tabs at once: refused, session kept) rather
	// than a replay (session revoked).
	ReuseGrace time.Duration
	// ExpiryWarning is how long before a subscriber's access token expires its
	// accountEvents send SESSION_EXPIRING; zero sends none.
	ExpiryWarning time.Duration
	// RevocationResync is how often the revocation set is read again from the sessions
	// table (DefaultRevocationResync when zero): the safety net for revocation events the
	// bus dropped because a subscriber fell behind.
	RevocationResync time.Duration

	// Attempts counts sign-in and registration attempts against the two budgets below;
	// nil means an in-process limiter on the service's clock. A budget with a zero Rate
	// is not enforced.
	Attempts ratelimit.Limiter
	// LoginLimitPerAccount is the sign-in attempts allowed per email address, whether
	// or not it has an account.
	LoginLimitPerAccount ratelimit.Limit
	// LoginLimitPerIP is the sign-in and registration attempts allowed per client
	// address (clientip.Key of the address in the context; none there, none counted).
	LoginLimitPerIP ratelimit.Limit

	// Audit, when set, records sign-ins, failed sign-ins of existing accounts and
	// sign-outs in the user's audit log.
	Audit Auditor

	// Providers verifies ID tokens of the external identity providers
	// SignInWithProvider accepts; nil means none is configured.
	Providers *oidc.Verifier
	// LinkByEmail lets a provider's first sign-in join the account with the same email
	// when the provider says the email is verified; otherwise such a sign-in is refused
	// with CONFLICT.
	LinkByEmail bool
}

// Auditor records security-relevant events of an account; the audit area
// (internal/audit) satisfies it.
type Auditor interface {
	Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error
}

// audit records an event; a failure is logged, never the user's problem: the sign-in
// or sign-out itself has happened.
func (s *Service) audit(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) {
	if s.cfg.Audit == nil || userID == "" {
		return
	}
	if err := s.cfg.Audit.Record(context.WithoutCancel(ctx), userID, kind, detail); err != nil {
		s.logger.ErrorContext(ctx, "record audit entry", "error", err, "kind", kind, "user_id", userID)
	}
}

// Service implements the accounts area.
type Service struct {
	db     bun.IDB
	cfg    Config
	tokens *Tokens
	hasher *hasher
	// attempts holds the sign-in budgets (Config.Attempts, or an in-process default).
	attempts ratelimit.Limiter
	events   Events
	// revocations holds the ended sessions whose access tokens may be unexpired.
	revocations *Revocations
	logger      *slog.Logger
	now         func() time.Time
}

// NewService returns the accounts service; now is the clock (time.Now in production).
func NewService(db bun.IDB, cfg Config, events Events, logger *slog.Logger, now func() time.Time) (*Service, error) {
	if len(cfg.Tokens.Secret) < 32 {
		return nil, errors.New("auth: the token secret must be at least 32 bytes")
	}
	h, err := newHasher(cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	for name, l := range map[string]ratelimit.Limit{"per account": cfg.LoginLimitPerAccount, "per IP": cfg.LoginLimitPerIP} {
		if l.Rate != 0 && (l.Rate < 0 || l.Period <= 0) {
			return nil, fmt.Errorf("auth: the sign-in limit %s needs a positive rate and period, got %d per %s", name, l.Rate, l.Period)
		}
	}
	utc := func() time.Time { return now().UTC() }
	attempts := cfg.Attempts
	if attempts == nil {
		attempts = ratelimit.NewMemory(utc)
	}
	return &Service{
		db: db, cfg: cfg, hasher: h, attempts: attempts, events: events, logger: logger, now: utc,
		tokens: NewTokens(cfg.Tokens, utc), revocations: newRevocations(cfg.Tokens.TTL, utc),
	}, nil
}

// Tokens returns the access-token verifier the transports authenticate with.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Revocations returns the instance's set of ended sessions the transports check every
// access token against (kept current by FollowRevocations).
func (s *Service) Revocations() *Revocations { return s.revocations }

// Credentials are what registering and signing in take.
type Credentials struct {
	Email     string
	Password  string
	UserAgent string
}

// Register creates an account on the free tier and signs it in.
//
// It does not say whether an email already has an account (OWASP's authentication
// cheat sheet). For a taken email it behaves as Login does: the owner's password signs
// the owner in, any other password gets Login's "invalid email or password", and
// either way the owner's audit log records the attempt. Both paths cost one bcrypt
// operation of the same cost: a hash for a new account, a comparison for a taken one.
func (s *Service) Register(ctx context.Context, in Credentials) (*models.AuthPayload, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	// Before the hash: bcrypt is the expensive part an address must not get for free.
	if err := s.spendAttempt(ctx, ipAttemptKey(ctx), s.cfg.LoginLimitPerIP, tooManyFromAddress); err != nil {
		return nil, err
	}
	existing, err := findUserByEmail(ctx, s.db, email)
	switch {
	case err == nil:
		return s.registerTaken(ctx, existing, in)
	case models.ErrorCode(err) != models.CodeNotFound:
		return nil, err
	}
	hash, err := s.hasher.hash(in.Password)
	if err != nil {
		return nil, models.Internal(err, "hash password")
	}
	id, err := newID()
	if err != nil {
		return nil, models.Internal(err, "new user id")
	}
	now := s.now()
	user := &models.User{ID: id, Email: email, PasswordHash: hash, Tier: models.TierFree, CreatedAt: now, UpdatedAt: now}
	var payload *models.AuthPayload
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := insertUser(ctx, tx, user); err != nil {
			return err
		}
		payload, err = s.startSession(ctx, tx, user, in.UserAgent, models.SignInPassword)
		return err
	})
	if errors.Is(err, errEmailTaken) {
		// A concurrent registration of the same email committed first: answer as for
		// any taken email (this one pays a second bcrypt, which only a race reaches).
		existing, ferr := findUserByEmail(ctx, s.db, email)
		if ferr != nil {
			return nil, ferr
		}
		return s.registerTaken(ctx, existing, in)
	}
	if err != nil {
		return nil, err
	}
	return payload, nil
}

// registerTaken answers a registration for an email that has an account, as Login
// would answer the same credentials, and tells the owner through the audit log.
//
// It is a password check, so it spends the email's sign-in budget as Login does:
// otherwise register would be a way around Login's per-account limit. A new email
// spends none, so signing up costs its owner nothing; that a refusal for the budget
// only ever comes for a taken email tells no one anything, since by then the first
// registration of a free email has succeeded, which is the one thing no answer can hide
// (see README, security notes).
func (s *Service) registerTaken(ctx context.Context, user *models.User, in Credentials) (*models.AuthPayload, error) {
	if err := s.spendAttempt(ctx, accountAttemptKey(user.Email), s.cfg.LoginLimitPerAccount, tooManyForAccount); err != nil {
		return nil, err
	}
	return s.signIn(ctx, user, in,
		models.AuditDetail{"reason": "registration attempted with this email"},
		models.AuditDetail{"via": "register", "userAgent": truncate(in.UserAgent, 200)})
}

// errInvalidCredentials is the one answer to credentials that do not sign anyone in,
// whether the email has an account or not.
func errInvalidCredentials() error {
	return models.Errorf(models.CodeUnauthenticated, "invalid email or password")
}

// accountAttemptKey is the sign-in budget key of an email address.
func accountAttemptKey(email string) string { return "login:acct:" + email }

// Login signs a user in. A wrong email and a wrong password give the same error, in
// about the same time. Each attempt is charged to the client address's budget and to
// the email address's, before anything is looked up, so a refusal (RATE_LIMITED with
// RetryAfter) is the same whether or not the account exists.
func (s *Service) Login(ctx context.Context, in Credentials) (*models.AuthPayload, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Password == "" {
		return nil, models.InvalidInput("password", "password is required")
	}
	// The address first: an address already refused then cannot also spend the
	// account's budget, which would lock its owner out for longer.
	if err := s.spendAttempt(ctx, ipAttemptKey(ctx), s.cfg.LoginLimitPerIP, tooManyFromAddress); err != nil {
		return nil, err
	}
	if err := s.spendAttempt(ctx, accountAttemptKey(email), s.cfg.LoginLimitPerAccount, tooManyForAccount); err != nil {
		return nil, err
	}
	user, err := findUserByEmail(ctx, s.db, email)
	if err != nil && models.ErrorCode(err) != models.CodeNotFound {
		return nil, err
	}
	return s.signIn(ctx, user, in,
		models.AuditDetail{"reason": "wrong password"},
		models.AuditDetail{"userAgent": truncate(in.UserAgent, 200)})
}

// signIn compares in's password with user's (a zero user, for an address with no
// account, compares against a placeholder at the same cost) and starts a session, or
// answers the one invalid-credentials error; both outcomes reach the owner's audit log
// with the detail given.
func (s *Service) signIn(ctx context.Context, user *models.User, in Credentials, failed, succeeded models.AuditDetail) (*models.AuthPayload, error) {
	ok, err := s.hasher.matches(user.PasswordHash, in.Password)
	if err != nil {
		return nil, models.Internal(err, "compare password")
	}
	// bcrypt reads 72 bytes, so a registered password followed by any tail would
	// match. Sign-up refuses longer passwords, so none is stored: a longer one is
	// simply wrong, answered after the same comparison so that it costs the same.
	if len(in.Password) > maxPasswordBytes {
		ok = false
	}
	if !ok {
		if user.ID != "" {
			s.audit(ctx, user.ID, models.AuditLoginFailed, failed)
		}
		return nil, errInvalidCredentials()
	}
	var payload *models.AuthPayload
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		payload, err = s.startSession(ctx, tx, user, in.UserAgent, models.SignInPassword)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, user.ID, models.AuditLogin, succeeded)
	return payload, nil
}

const (
	tooManyFromAddress = "too many sign-in attempts from your network: try again later"
	tooManyForAccount  = "too many sign-in attempts for this email address: try again later"
)

// ipAttemptKey is the sign-in budget key of the client address in ctx; "" when the
// context names none (a caller other than the HTTP server).
func ipAttemptKey(ctx context.Context) string {
	addr, ok := clientip.From(ctx)
	if !ok {
		return ""
	}
	return "login:ip:" + clientip.Key(addr)
}

// spendAttempt charges one attempt to key under limit, or refuses it with RATE_LIMITED.
//
// Every attempt counts, a successful one too, and success resets nothing: GCRA has no
// reset, and none is needed because the budget refills steadily (at the defaults one
// attempt per 90 s per account), so someone who signs in now and then never comes near
// it. A reset on success would hand the address budget back to anyone who owns one
// account: they would interleave a good sign-in with their guesses.
//
// A limiter that cannot answer (Redis down) lets the attempt through with an error
// log: refusing every sign-in while Redis is away would turn its outage into ours, and
// bcrypt's cost still slows guessing down meanwhile.
func (s *Service) spendAttempt(ctx context.Context, key string, limit ratelimit.Limit, message string) error {
	if key == "" || limit.Rate == 0 {
		return nil
	}
	d, err := s.attempts.Allow(ctx, key, limit)
	if err != nil {
		s.logger.ErrorContext(ctx, "sign-in limiter unavailable: attempt let through", "error", err)
		metrics.LimiterErrors.WithLabelValues("login").Inc()
		return nil
	}
	if !d.Allowed {
		return &models.Error{Code: models.CodeRateLimited, Message: message, RetryAfter: d.RetryAfter}
	}
	return nil
}

// startSession opens a new session (a refresh-token family) for user, signed in by method.
func (s *Service) startSession(ctx context.Context, tx bun.IDB, user *models.User, userAgent string, method models.SignInMethod) (*models.AuthPayload, error) {
	id, err := newID()
	if err != nil {
		return nil, models.Internal(err, "new session id")
	}
	now := s.now()
	session := &models.Session{
		ID: id, UserID: user.ID, UserAgent: truncate(userAgent, 512), CreatedAt: now, LastUsedAt: now,
		Method: method,
	}
	if addr, ok := clientip.From(ctx); ok {
		session.ClientNetwork = clientip.Network(addr)
	}
	if err := insertSession(ctx, tx, session); err != nil {
		return nil, err
	}
	return s.issue(ctx, tx, user, session.ID)
}

// issue stores a new refresh token in the session and signs an access token for it.
func (s *Service) issue(ctx context.Context, tx bun.IDB, user *models.User, sessionID string) (*models.AuthPayload, error) {
	token, hash, err := newRefreshToken()
	if err != nil {
		return nil, models.Internal(err, "new refresh token")
	}
	id, err := newID()
	if err != nil {
		return nil, models.Internal(err, "new refresh token id")
	}
	now := s.now()
	if err := insertRefreshToken(ctx, tx, &models.RefreshToken{
		ID: id, SessionID: sessionID, UserID: user.ID, TokenHash: hash,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	}); err != nil {
		return nil, err
	}
	access, exp, err := s.tokens.Issue(user.ID, sessionID)
	if err != nil {
		return nil, models.Internal(err, "issue access token")
	}
	return &models.AuthPayload{AccessToken: access, RefreshToken: token, ExpiresAt: exp, User: user}, nil
}

// Refresh exchanges a refresh token for a new pair. The old token is spent: a second
// use of it (after ReuseGrace) means it leaked, and the whole session is revoked.
func (s *Service) Refresh(ctx context.Context, refreshToken, userAgent string) (*models.AuthPayload, error) {
	invalid := models.Errorf(models.CodeUnauthenticated, "invalid refresh token: sign in again")
	if refreshToken == "" {
		return nil, models.InvalidInput("refreshToken", "refreshToken is required")
	}
	var payload *models.AuthPayload
	var reused *models.Session
	var reusedAt *time.Time
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		tok, err := findRefreshTokenByHash(ctx, tx, hashRefreshToken(refreshToken))
		if err != nil {
			if models.ErrorCode(err) == models.CodeNotFound {
				return invalid
			}
			return err
		}
		session, err := findSession(ctx, tx, tok.UserID, tok.SessionID)
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case session.RevokedAt != nil:
			return errSessionEnded()
		case tok.UsedAt != nil && now.Sub(*tok.UsedAt) <= s.cfg.ReuseGrace:
			return models.Errorf(models.CodeConflict, "this refresh token was just rotated by another request: use the newest one")
		case tok.UsedAt != nil:
			revoked, err := revokeSession(ctx, tx, tok.UserID, session.ID, now, models.RevokedByTokenReuse)
			if err != nil {
				return err
			}
			if !revoked { // a concurrent replay or logout ended it first
				return errSessionEnded()
			}
			reused, reusedAt = session, &now
			return nil // commit the revocation; the caller gets an error below
		case !now.Before(tok.ExpiresAt):
			return models.Errorf(models.CodeUnauthenticated, "refresh token expired: sign in again")
		}
		claimed, err := claimRefreshToken(ctx, tx, tok.UserID, tok.ID, now)
		if err != nil {
			return err
		}
		if !claimed {
			return models.Errorf(models.CodeConflict, "this refresh token was just rotated by another request: use the newest one")
		}
		// The session was read without a lock: a logout or a reuse revocation may have
		// committed since. Touching only a live session makes that visible here.
		live, err := touchSession(ctx, tx, tok.UserID, session.ID, now)
		if err != nil {
			return err
		}
		if !live {
			return errSessionEnded()
		}
		user, err := findUserByID(ctx, tx, tok.UserID)
		if err != nil {
			return err
		}
		payload, err = s.issue(ctx, tx, user, session.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if reused != nil {
		s.logger.WarnContext(ctx, "refresh token reused: session revoked", "user_id", reused.UserID, "session_id", reused.ID)
		s.ended(ctx, reused.UserID, reused.ID, models.RevokedByTokenReuse, *reusedAt)
		return nil, models.Errorf(models.CodeUnauthenticated, "refresh token already used: the session is revoked, sign in again")
	}
	return payload, nil
}

// Logout ends the session a refresh token belongs to. Ending an ended session again
// succeeds and changes nothing.
func (s *Service) Logout(ctx context.Context, refreshToken string) (*models.LogoutPayload, error) {
	if refreshToken == "" {
		return nil, models.InvalidInput("refreshToken", "refreshToken is required")
	}
	tok, err := findRefreshTokenByHash(ctx, s.db, hashRefreshToken(refreshToken))
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, models.Errorf(models.CodeUnauthenticated, "invalid refresh token")
		}
		return nil, err
	}
	now := s.now()
	revoked, err := revokeSession(ctx, s.db, tok.UserID, tok.SessionID, now, models.RevokedByLogout)
	if err != nil {
		return nil, err
	}
	if !revoked {
		session, err := findSession(ctx, s.db, tok.UserID, tok.SessionID)
		if err != nil {
			return nil, err
		}
		return &models.LogoutPayload{SessionID: session.ID, RevokedAt: *session.RevokedAt}, nil
	}
	s.ended(ctx, tok.UserID, tok.SessionID, models.RevokedByLogout, now)
	s.audit(ctx, tok.UserID, models.AuditLogout, models.AuditDetail{"session": tok.SessionID})
	return &models.LogoutPayload{SessionID: tok.SessionID, RevokedAt: now}, nil
}

// User returns the caller's own account.
func (s *Service) User(ctx context.Context, caller models.Caller) (*models.User, error) {
	return findUserByID(ctx, s.db, caller.UserID)
}

// UsersByIDs returns the accounts with the given IDs, for loaders; a missing ID is
// absent from the map. It is not scoped to one caller because a loader batches the
// keys of a whole operation; the resolvers only ever ask it for the caller's own ID.
func (s *Service) UsersByIDs(ctx context.Context, ids []string) (map[string]*models.User, error) {
	return findUsersByIDs(ctx, s.db, ids)
}

func accountTopic(userID string) string { return "account." + userID }

// ended makes a committed revocation take effect: at once on this instance, and
// through the events bus on every other (whose revocation sets reload from the
// database when their bus comes back after a gap), and tells the user's account-event
// subscribers. Delivery is best effort: the revocation itself is already committed.
//
// The account event goes first: the bus keeps the order, so a subscription of the
// ended session itself gets the event before its connection learns it must close.
func (s *Service) ended(ctx context.Context, userID, sessionID string, reason models.RevocationReason, at time.Time) {
	ctx = context.WithoutCancel(ctx)
	ev := models.AccountEvent{Type: models.AccountEventSessionRevoked, SessionID: sessionID, Reason: &reason, OccurredAt: s.now()}
	b, err := json.Marshal(ev)
	if err == nil {
		err = s.events.Publish(ctx, accountTopic(userID), b)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "publish account event", "error", err, "user_id", userID)
	}
	s.propagateRevocation(ctx, userID, sessionID, at)
}

// propagateRevocation adds a revoked credential (a session, or an API key under
// apiKeyRevocationID) to this instance's revocation set and publishes it to every
// other's, whose sockets authenticated by it then close.
func (s *Service) propagateRevocation(ctx context.Context, userID, id string, at time.Time) {
	s.revocations.add(id, at)
	b, err := json.Marshal(revokedEvent{UserID: userID, SessionID: id, RevokedAt: at})
	if err == nil {
		err = s.events.Publish(context.WithoutCancel(ctx), revokedTopic, b)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "publish revocation", "error", err, "user_id", userID)
	}
}

// AccountEvents streams the caller's account events until ctx ends. The service owns
// the goroutine and closes the channel. A subscriber signed in with an access token
// is also told, ExpiryWarning before it expires, that it soon will (SESSION_EXPIRING,
// with the deadline): its connection closes then, so it can refresh and reconnect
// first. An API key's subscription gets no warning (its expiry is its owner's choice).
func (s *Service) AccountEvents(ctx context.Context, caller models.Caller) (<-chan *models.AccountEvent, error) {
	in, err := s.events.Subscribe(ctx, accountTopic(caller.UserID))
	if err != nil {
		return nil, models.Internal(err, "subscribe to account events")
	}
	var expiring <-chan time.Time
	if s.cfg.ExpiryWarning > 0 && caller.SessionID != "" && !caller.ExpiresAt.IsZero() {
		t := time.NewTimer(max(caller.ExpiresAt.Add(-s.cfg.ExpiryWarning).Sub(s.now()), 0))
		expiring = t.C
		context.AfterFunc(ctx, func() { t.Stop() })
	}
	out := make(chan *models.AccountEvent, 1)
	go func() {
		defer close(out)
		for {
			var ev *models.AccountEvent
			select {
			case b, ok := <-in:
				if !ok {
					return
				}
				ev = new(models.AccountEvent)
				if err := json.Unmarshal(b, ev); err != nil {
					s.logger.ErrorContext(ctx, "decode account event", "error", err)
					continue
				}
				ev.CurrentSession = ev.SessionID == caller.SessionID
			case <-expiring:
				expiring = nil
				deadline := caller.ExpiresAt
				ev = &models.AccountEvent{
					Type: models.AccountEventSessionExpiring, SessionID: caller.SessionID, CurrentSession: true,
					ExpiresAt: &deadline, OccurredAt: s.now(),
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// truncate cuts s to at most n bytes of valid UTF-8: PostgreSQL refuses invalid
// UTF-8 in text columns, and a header can carry anything.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// TierOf returns the tier stored in the user's account. Areas whose limits depend on
// the tier read billing's lookup, which falls back to this one when no subscription
// decides (never subscribed, ended, or set by an operator).
func (s *Service) TierOf(ctx context.Context, userID string) (models.Tier, error) {
	u, err := findUserByID(ctx, s.db, userID)
	if err != nil {
		return "", err
	}
	return u.Tier, nil
}

// CreateTeamSpace adds a new team's shared space (a users row of kind 'team' with the
// team's ID, which nobody signs in as), in db: the transaction that creates the team.
func (s *Service) CreateTeamSpace(ctx context.Context, db bun.IDB, teamID string) error {
	return insertTeamSpace(ctx, db, teamID, s.now())
}

// DeleteTeamSpace deletes a team's shared space and everything kept in it (its
// onboarding data, personas, provider keys, usage, documents and playbooks), in db:
// the transaction that deletes the team.
func (s *Service) DeleteTeamSpace(ctx context.Context, db bun.IDB, teamID string) error {
	return deleteTeamSpace(ctx, db, teamID)
}

// SetTier changes a user's billing tier; the billing area calls it when Stripe says
// what the user pays for. It reports whether the tier changed.
func (s *Service) SetTier(ctx context.Context, userID string, tier models.Tier) (bool, error) {
	if !tier.Valid() {
		return false, models.InvalidInput("tier", "unknown tier %q", tier)
	}
	return updateUserTier(ctx, s.db, userID, tier, s.now())
}

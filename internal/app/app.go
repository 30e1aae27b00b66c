// Package app assembles Inkgraph's services from its configuration, once, for the
// server, the command line and the tests that run the whole server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/audit"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/catalog"
	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/conversation"
	"github.com/inkgraph/inkgraph/internal/knowledge"
	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/metering"
	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/mail"
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/internal/playbook"
	"github.com/inkgraph/inkgraph/internal/team"
	"github.com/inkgraph/inkgraph/models"
)

// DefaultRedisKeyPrefix is where Inkgraph's keys live in Redis unless
// WithRedisKeyPrefix says otherwise: the budgets under its "ratelimit:", the
// automatically persisted queries under its "apq:".
const DefaultRedisKeyPrefix = "inkgraph:"

// Services are the areas the server serves.
type Services struct {
	Accounts *auth.Service
	Wizard   *onboarding.Service
	// Billing is Stripe billing, entitlements and the tier every area reads; without
	// Stripe configured it answers BILLING_NOT_CONFIGURED and everyone keeps the tier
	// their account has (free unless set otherwise).
	Billing *billing.Service
	// Audit is the audit log that accounts, onboarding and billing record in.
	Audit *audit.Service
	// Backups keeps users' backup blobs in the configured store.
	Backups *backup.Service
	// Chat runs the LLM agents and meters their use.
	Chat *chat.Service
	// Playbooks runs the server-side templates and plans.
	Playbooks *playbook.Service
	// Conversations keeps the chat settings and, for users who keep history, their
	// conversations (sealed with the key ring); chat reads and appends through it.
	Conversations *conversation.Service
	// Teams keeps teams, their members and invitations; it records in the audit log.
	Teams *team.Service
	// Knowledge keeps users' documents, ingests them (its worker runs until Close) and
	// searches them.
	Knowledge *knowledge.Service
	// LocalBlobs is the local blob store whose signed URLs the server answers
	// (/blobs/…); nil with S3, whose URLs S3 answers.
	LocalBlobs *backup.LocalStore
	// Limiter holds every request budget (per-tier operations, sign-in attempts): in
	// this process, or in Redis when REDIS_URL is set, so that every instance draws on
	// one budget per user.
	Limiter ratelimit.Limiter
	// Tiers tells the per-tier rate limit a user's tier and seats: billing's one tier
	// lookup (Billing.TierAndSeats), which every other area reads as TierOf.
	Tiers func(ctx context.Context, userID string) (models.Tier, int, error)
	// PersistedQueries is where automatically persisted queries are shared by every
	// instance: Redis when REDIS_URL is set, nil (each process alone) otherwise.
	PersistedQueries PersistedQueries
	// TrustedDocuments is the manifest INKGRAPH_TRUSTED_DOCUMENTS names (only its
	// operations run), nil when unset.
	TrustedDocuments *TrustedDocuments

	closers []func() error
	// blobs is the configured blob store (backups', and knowledge's under its prefix).
	blobs backup.BlobStore
	// redis is the client of REDIS_URL, nil without one.
	redis *redis.Client
}

// Option adjusts how NewServices builds the services.
type Option func(*options)

type options struct {
	limiterClock func() time.Time
	redisPrefix  string
}

// WithLimiterClock sets the clock of the in-process limiter (time.Now by default), so
// tests can decide when budgets refill. Redis budgets read Redis's clock.
func WithLimiterClock(now func() time.Time) Option {
	return func(o *options) { o.limiterClock = now }
}

// WithRedisKeyPrefix keeps the Redis budgets and persisted queries under prefix
// instead of DefaultRedisKeyPrefix: instances share them exactly when they share a
// prefix.
func WithRedisKeyPrefix(prefix string) Option {
	return func(o *options) { o.redisPrefix = prefix }
}

// NewServices builds every area over db and bus; ctx bounds what building does (S3 set-up). cfg must have its secrets
// (config.EnsureSecrets). Close releases what it opened (the Redis client).
func NewServices(ctx context.Context, cfg config.Config, db *bun.DB, bus events.Bus, logger *slog.Logger, opts ...Option) (*Services, error) {
	o := options{limiterClock: time.Now, redisPrefix: DefaultRedisKeyPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	svc := &Services{}
	// The manifest first: a server told to run only its documents must not start
	// without them.
	if cfg.TrustedDocuments != "" {
		docs, err := LoadTrustedDocuments(cfg.TrustedDocuments)
		if err != nil {
			return nil, fmt.Errorf("INKGRAPH_TRUSTED_DOCUMENTS: %w", err)
		}
		svc.TrustedDocuments = docs
	}
	limiter, err := svc.newLimiter(cfg, o)
	if err != nil {
		return nil, err
	}
	// The audit log first: accounts, onboarding and billing record in it. Then the
	// accounts, whose stored tier billing sets.
	auditLog, err := audit.NewService(audit.Deps{DB: db, Now: time.Now, ClientIP: clientAddr})
	if err != nil {
		_ = svc.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	accounts, err := newAccounts(cfg, db, bus, limiter, auditLog, logger)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	// Every instance's revoked sessions, followed until Close: a revoked session's
	// tokens stop at once everywhere (the bus outlives the services).
	follow, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	svc.closers = append(svc.closers, func() error { stopFollowing(); return nil })
	if err := accounts.FollowRevocations(follow); err != nil {
		_ = svc.Close()
		return nil, fmt.Errorf("accounts: %w", err)
	}
	bill, err := billing.NewService(billing.Config{
		SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase,
		Prices: cfg.StripePrices, PublicURL: cfg.PublicURL, PastDueGrace: cfg.PastDueGrace,
	}, billing.Deps{
		DB: db, Accounts: accounts, Audit: auditLog, Events: bus, Logger: logger, Now: time.Now, ClientIP: clientAddr,
	})
	if err != nil {
		_ = svc.Close()
		return nil, fmt.Errorf("billing: %w", err)
	}
	// The server's own LLM, nil when INKGRAPH_LLM_BASE_URL is unset.
	var serverLLM *llm.Client
	if cfg.LLMBaseURL != "" {
		if serverLLM, err = newLLM(cfg); err != nil {
			_ = svc.Close()
			return nil, err
		}
	}
	// Every tier-dependent limit (onboarding, chat, playbooks, backups, the rate
	// limit) reads the tier billing grants now: a user whose past-due grace ended is
	// free at once, before the sweep stores it.
	wizard, err := newOnboarding(cfg, db, bus, serverLLM, bill, auditLog, logger)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	// Chat and playbooks read one catalogue of templates and playbooks, and one meter
	// chooses who answers a user and who pays, and books what both used.
	if svc.Conversations, err = newConversations(cfg, db, logger); err != nil {
		_ = svc.Close()
		return nil, err
	}
	// Backups before knowledge, which keeps its blobs in the same store; knowledge
	// before chat, whose grounded answers search it.
	if err := svc.newBackups(ctx, cfg, db, bill, logger); err != nil {
		_ = svc.Close()
		return nil, err
	}
	if err := svc.newKnowledge(ctx, cfg, db, bus, bill, logger); err != nil {
		_ = svc.Close()
		return nil, err
	}
	if svc.Chat, svc.Playbooks, err = newChatAndPlaybooks(cfg, db, bus, serverLLM, wizard, bill, svc.Conversations, svc.chatJournal(cfg, o, logger), svc.Knowledge, logger); err != nil {
		_ = svc.Close()
		return nil, err
	}
	teamDeps := team.Deps{DB: db, Audit: auditLog, Spaces: teamSpaces{accounts, svc.Knowledge}, TeamsPerOwner: cfg.TeamsPerOwner, Billing: bill, Events: bus, Logger: logger, PublicURL: cfg.PublicURL, Now: time.Now, ClientIP: clientAddr}
	if cfg.SMTPURL != "" {
		m, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, Timeout: 20 * time.Second})
		if err != nil {
			_ = svc.Close()
			return nil, fmt.Errorf("INKGRAPH_SMTP_URL: %w", err)
		}
		teamDeps.Mailer = m
	}
	if svc.Teams, err = team.NewService(teamDeps); err != nil {
		_ = svc.Close()
		return nil, fmt.Errorf("teams: %w", err)
	}
	svc.Audit, svc.Accounts, svc.Wizard, svc.Billing, svc.Limiter = auditLog, accounts, wizard, bill, limiter
	svc.Tiers = bill.TierAndSeats
	return svc, nil
}

// teamSpaces creates and deletes teams' shared spaces, in the team's transaction:
// the accounts area keeps the space's row (whose deletion takes every area's rows of
// it), and knowledge notes its documents' files for its sweep first.
type teamSpaces struct {
	accounts  *auth.Service
	knowledge *knowledge.Service
}

func (t teamSpaces) CreateTeamSpace(ctx context.Context, db bun.IDB, teamID string) error {
	return t.accounts.CreateTeamSpace(ctx, db, teamID)
}

func (t teamSpaces) DeleteTeamSpace(ctx context.Context, db bun.IDB, teamID string) error {
	if err := t.knowledge.ForgetSpace(ctx, db, teamID); err != nil {
		return err
	}
	return t.accounts.DeleteTeamSpace(ctx, db, teamID)
}

// CheckBlobStore builds the configured blob store's client without using it, so that
// what the S3 store reads beyond Inkgraph's own settings (the AWS SDK's environment,
// shared files, AWS_CA_BUNDLE) fails before anything is written, migrated or bound.
// It makes no request.
func CheckBlobStore(ctx context.Context, cfg config.Config) error {
	if cfg.BackupStore != config.BackupStoreS3 {
		return nil
	}
	_, err := backup.NewS3Store(ctx, s3Config(cfg))
	return err
}

// s3Config is the S3 store's configuration.
func s3Config(cfg config.Config) backup.S3Config {
	return backup.S3Config{
		Bucket: cfg.S3Bucket, Region: cfg.S3Region, Endpoint: cfg.S3Endpoint, PathStyle: cfg.S3PathStyle,
		AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey,
		Timeout: 5 * time.Minute,
	}
}

// newBackups builds the backup area over the configured blob store. Quotas follow
// the tier billing says the user has now (free once a failed payment's grace ended,
// before the sweep has caught up).
func (s *Services) newBackups(ctx context.Context, cfg config.Config, db *bun.DB, tiers backup.Tiers, logger *slog.Logger) error {
	var store backup.BlobStore
	switch cfg.BackupStore {
	case config.BackupStoreS3:
		s3, err := backup.NewS3Store(ctx, s3Config(cfg))
		if err != nil {
			return err
		}
		store = s3
	default:
		local, err := backup.NewLocalStore(backup.LocalConfig{Dir: cfg.BackupDir, BaseURL: cfg.BackupBaseURL, SigningKey: cfg.BackupSigningKey})
		if err != nil {
			return err
		}
		store, s.LocalBlobs = local, local
	}
	s.blobs = store
	svc, err := backup.NewService(backup.Config{URLTTL: cfg.BackupURLTTL, PendingTimeout: cfg.BackupPendingTimeout},
		backup.Deps{DB: db, Store: store, Tiers: tiers, Logger: logger, Now: time.Now})
	if err != nil {
		return err
	}
	s.Backups = svc
	return nil
}

// clientAddr is the client's address of a request's context, "" when unknown: what
// the audit log records of where an action came from.
func clientAddr(ctx context.Context) string {
	if a, ok := clientip.From(ctx); ok {
		return a.String()
	}
	return ""
}

// Close releases the connections the services opened.
func (s *Services) Close() error {
	var errs []error
	for _, c := range s.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// newLimiter returns the in-process limiter, or the Redis one when REDIS_URL is set;
// with Redis, the automatically persisted queries are kept there too.
func (s *Services) newLimiter(cfg config.Config, o options) (ratelimit.Limiter, error) {
	if cfg.RedisURL == "" {
		return ratelimit.NewMemory(o.limiterClock), nil
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// A budget check runs before every operation and fails open, so a Redis that is
	// away must cost an operation little time, not go-redis's defaults (5 s dials,
	// retried five times, then three command retries). The URL's own
	// dial_timeout, read_timeout, write_timeout and max_retries still win.
	if ropts.DialTimeout == 0 {
		ropts.DialTimeout = time.Second
	}
	if ropts.ReadTimeout == 0 {
		ropts.ReadTimeout = 500 * time.Millisecond
	}
	if ropts.WriteTimeout == 0 {
		ropts.WriteTimeout = 500 * time.Millisecond
	}
	if ropts.MaxRetries == 0 {
		ropts.MaxRetries = 1
	}
	ropts.DialerRetries = 1
	ropts.ContextTimeoutEnabled = true
	client := redis.NewClient(ropts)
	s.closers = append(s.closers, client.Close)
	s.redis = client
	// A persisted query Redis does not answer is one the client sends again: the
	// same short timeouts suit it.
	s.PersistedQueries = NewRedisPersistedQueries(client, o.redisPrefix+"apq:", cfg.APQTTL)
	return ratelimit.NewRedis(client, o.redisPrefix+"ratelimit:"), nil
}

// chatJournal keeps chat runs' events for chatRun: in Redis, shared by every
// instance, when REDIS_URL is set; in this process otherwise.
func (s *Services) chatJournal(cfg config.Config, o options, logger *slog.Logger) runlog.Log {
	if cfg.ChatResumeGrace == 0 {
		return nil // resuming is off
	}
	limits := runlog.Limits{Retain: cfg.ChatResumeRetain}
	if s.redis == nil {
		return runlog.NewMemory(limits)
	}
	return runlog.NewRedis(s.redis, o.redisPrefix+"chat:", limits, logger)
}

func newAccounts(cfg config.Config, db *bun.DB, bus events.Bus, attempts ratelimit.Limiter, audit auth.Auditor, logger *slog.Logger) (*auth.Service, error) {
	providers := make([]oidc.Provider, len(cfg.OIDCProviders))
	for i, p := range cfg.OIDCProviders {
		providers[i] = oidc.Provider{Issuer: p.Issuer, Audience: p.Audience}
	}
	verifier, err := oidc.New(oidc.Config{Providers: providers, Algorithms: cfg.OIDCAlgorithms})
	if err != nil {
		return nil, err
	}
	return auth.NewService(db, auth.Config{
		Tokens: auth.TokenConfig{
			Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL,
		},
		RefreshTTL: cfg.RefreshTokenTTL,
		BcryptCost: cfg.BcryptCost,
		ReuseGrace: cfg.RefreshReuseGrace,
		// Sockets close when their access token expires: warn them first.
		ExpiryWarning: cfg.SessionExpiryWarning,
		// Sign-in limits hold whatever INKGRAPH_RATE_LIMITS says: that switch is about
		// the per-tier request budgets, and these guard passwords.
		Attempts:             attempts,
		LoginLimitPerAccount: cfg.LoginLimitPerAccount,
		LoginLimitPerIP:      cfg.LoginLimitPerIP,
		Audit:                audit,
		Providers:            verifier,
		LinkByEmail:          cfg.OIDCLinkByEmail,
	}, bus, logger, time.Now)
}

// newConversations wires the conversation area over the key ring.
func newConversations(cfg config.Config, db *bun.DB, logger *slog.Logger) (*conversation.Service, error) {
	ring, err := cfg.Ring()
	if err != nil {
		return nil, fmt.Errorf("key ring: %w", err)
	}
	return conversation.NewService(conversation.Deps{DB: db, Ring: ring, ReloadRing: cfg.ReloadRing(), Logger: logger, Now: time.Now})
}

// newOnboarding wires the onboarding area: the key ring, the LLM when one is
// configured, website analysis, live key checks and persona generation.
func newOnboarding(cfg config.Config, db *bun.DB, bus events.Bus, serverLLM *llm.Client, tiers onboarding.Tiers, audit onboarding.Auditor, logger *slog.Logger) (*onboarding.Service, error) {
	ring, err := cfg.Ring()
	if err != nil {
		return nil, fmt.Errorf("key ring: %w", err)
	}
	var webLLM website.Completer
	var personaLLM persona.Completer
	if serverLLM != nil {
		// Typed nils would pass the generators' nil checks: assign only a real client.
		webLLM, personaLLM = serverLLM, serverLLM
	}
	var verifier onboarding.KeyVerifier
	if cfg.LiveKeyCheck {
		verifier = providers.NewVerifier(&http.Client{}, cfg.ProviderBaseURLs)
	}
	return onboarding.NewService(onboarding.Deps{
		DB:         db,
		Ring:       ring,
		ReloadRing: cfg.ReloadRing(),
		Website: website.New(website.Config{
			Timeout: cfg.FetchTimeout, MaxBytes: cfg.FetchMaxBytes, Allow: cfg.FetchAllow, Brand: cfg.BrandAnalysis,
		}, webLLM, logger),
		Generator:     persona.NewGenerator(personaLLM, logger),
		Verifier:      verifier,
		Tiers:         tiers,
		Events:        bus,
		Audit:         audit,
		Logger:        logger,
		LiveKeyCheck:  cfg.LiveKeyCheck,
		BrandAnalysis: cfg.BrandAnalysis,
		LLMConfigured: cfg.LLMBaseURL != "",
	})
}

// newLLM returns the server's own LLM client for INKGRAPH_LLM_BASE_URL.
func newLLM(cfg config.Config) (*llm.Client, error) {
	c, err := llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, Model: cfg.LLMModel, Timeout: cfg.LLMTimeout})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return c, nil
}

// byokBaseURL is where a user's own OpenAI key is sent.
const byokBaseURL = "https://api.openai.com/v1"

// newChatAndPlaybooks wires the chat and playbook areas over one template catalogue
// and one meter: the server's LLM (or the offline provider), users' own OpenAI keys
// on tiers with BYOK, and onboarding's personalisation.
func newChatAndPlaybooks(cfg config.Config, db *bun.DB, bus events.Bus, serverLLM *llm.Client, wizard *onboarding.Service, tiers metering.Tiers, talks *conversation.Service, journal runlog.Log, knowledge chat.Knowledge, logger *slog.Logger) (*chat.Service, *playbook.Service, error) {
	cat, err := catalog.Builtin()
	if err != nil {
		return nil, nil, fmt.Errorf("playbook templates: %w", err)
	}
	d := metering.Deps{DB: db, Keys: wizard, Tiers: tiers, LiveKeyChecks: cfg.LiveKeyCheck}
	if serverLLM != nil {
		d.Server = serverLLM // a nil *llm.Client must not become a non-nil Provider
	}
	if cfg.BYOK {
		base := byokBaseURL
		if u, ok := cfg.ProviderBaseURLs["openai"]; ok {
			base = strings.TrimSuffix(u, "/") + "/v1" // the override replaces the API's origin
		}
		d.BYOK = &metering.BYOK{Provider: "openai", New: func(key string) (llm.Provider, error) {
			return llm.New(llm.Config{BaseURL: base, APIKey: key, Model: cfg.BYOKModel, Timeout: cfg.LLMTimeout})
		}}
	}
	meter, err := metering.NewService(d)
	if err != nil {
		return nil, nil, err
	}
	talk, err := chat.NewService(chat.Deps{
		Meter: meter, Tiers: tiers, Personalizer: wizard, Catalog: cat, Logger: logger, MaxTokens: cfg.ChatMaxTokens,
		Settings: talks, History: talks, Journal: journal, ResumeGrace: cfg.ChatResumeGrace,
		// Tool calls waiting for approval: kept in the database, decisions announced
		// on the bus to the instance whose run waits.
		DB: db, Events: bus, ApprovalTimeout: cfg.ChatApprovalTimeout,
		Knowledge: knowledge,
	})
	if err != nil {
		return nil, nil, err
	}
	books, err := playbook.NewService(playbook.Deps{
		Catalog: cat, Tiers: tiers, Personalizer: wizard, Meter: meter, Logger: logger, MaxTokens: cfg.ChatMaxTokens,
		DB: db, // custom playbooks
	})
	if err != nil {
		return nil, nil, fmt.Errorf("playbooks: %w", err)
	}
	return talk, books, nil
}

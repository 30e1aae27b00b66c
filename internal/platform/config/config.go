// Package config reads Inkgraph's configuration from flags and the environment, and
// owns the secrets embedded mode generates for itself. Every variable is declared once,
// in Vars, with its default; README.md's table is checked against it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/platform/mail"
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// Config is the whole configuration.
type Config struct {
	Production bool
	Addr       string
	// AdminAddr is the admin listener's address (metrics, pprof); "" for none.
	AdminAddr     string
	MetricsPublic bool
	// EventsURL is the PostgreSQL connection the events bus LISTENs on: DATABASE_URL
	// unless that goes through a transaction pooler.
	EventsURL   string
	DataDir     string
	Database    database.Config
	AutoMigrate bool

	JWTSecret       []byte
	JWTIssuer       string
	JWTAudience     string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// RefreshReuseGrace tells a concurrent refresh from a replayed refresh token.
	RefreshReuseGrace time.Duration
	BcryptCost        int
	// CookieSessions also keeps a browser's refresh token in an HttpOnly cookie
	// (login, register, refreshToken set it; logout clears it).
	CookieSessions bool
	// SessionExpiryWarning is how long before a socket's access token expires
	// accountEvents sends SESSION_EXPIRING.
	SessionExpiryWarning time.Duration
	// OIDCProviders are the external identity providers whose ID tokens sign users in.
	OIDCProviders []OIDCProvider
	// OIDCLinkByEmail links a provider's first sign-in to the account with the same
	// email, when the provider says the email is verified.
	OIDCLinkByEmail bool
	// OIDCAlgorithms are the signing algorithms accepted from providers.
	OIDCAlgorithms []string

	MaxBodyBytes       int64
	MaxQueryTokens     int
	MaxQueryDepth      int
	MaxQueryComplexity int
	AllowedOrigins     []string
	WSInitTimeout      time.Duration
	KeepAlive          time.Duration
	ShutdownTimeout    time.Duration
	LogLevel           slog.Level
	// GCHeapFloor is the collector's least heap goal, in bytes, while little is live
	// (gcfloor.Set); 0: Go's own pacing.
	GCHeapFloor uint64
	// Playground serves GraphiQL (its assets embedded) at /.
	Playground bool
	// TrustedDocuments is the path of a manifest of the only operations accepted
	// (trusted-documents mode); "" accepts any document.
	TrustedDocuments string
	// APQTTL is how long an automatically persisted query stays registered.
	APQTTL time.Duration

	// The document's shape, counted before validation (whose cost grows faster than
	// the document): see internal/api/limits.go.
	MaxQueryFieldsPerSet    int
	MaxQuerySelections      int
	MaxQueryAliases         int
	MaxQueryFragmentSpreads int
	MaxQueryDirectives      int
	MaxQueryVariables       int
	MaxIntrospectionFields  int

	// WebSocket admission, checked before the upgrade: handshakes per client address
	// per minute, open sockets per client address and in all (0: no limit).
	WSUpgradesPerMinute int
	WSMaxConnsPerIP     int
	WSMaxConns          int

	// Keyring is the key ring's configuration form; KeyringFile is set when it was
	// generated into (and is read from) the data directory.
	Keyring          string
	KeyringFile      string
	KeyringCurrent   int // 0: the highest version
	LiveKeyCheck     bool
	ProviderBaseURLs map[string]string
	LLMBaseURL       string
	LLMAPIKey        string
	LLMModel         string
	LLMTimeout       time.Duration
	ChatMaxTokens    int
	// ChatResumeGrace is how long a run whose client left waits to be resumed, 0
	// when runs are not resumable (nothing of them is kept); ChatResumeRetain how
	// long a run's events are kept after it ends.
	ChatResumeGrace  time.Duration
	ChatResumeRetain time.Duration
	// ChatApprovalTimeout is how long a run waits for a tool call's approval.
	ChatApprovalTimeout time.Duration
	BYOK                bool
	BYOKModel           string
	FetchTimeout        time.Duration
	FetchMaxBytes       int64
	FetchAllow          []netip.Prefix
	// KnowledgeMaxBytes is the largest knowledge document.
	KnowledgeMaxBytes int64
	// EmbeddingsBaseURL is the OpenAI-compatible embeddings endpoint; empty: the
	// offline embedder.
	EmbeddingsBaseURL    string
	EmbeddingsAPIKey     string
	EmbeddingsModel      string
	EmbeddingsDimensions int
	BrandAnalysis        bool

	RedisURL             string
	RateLimits           bool
	LoginLimitPerAccount ratelimit.Limit
	LoginLimitPerIP      ratelimit.Limit
	TrustedProxies       []netip.Prefix
	// SchemaRateLimit is the budget of schema fetches (introspection, development
	// only) per caller, apart from the tier's.
	SchemaRateLimit ratelimit.Limit

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	StripePrices        map[models.Tier]string
	PublicURL           string
	PastDueGrace        time.Duration

	// SMTPURL is where invitation emails go (smtp:// or smtps://); empty sends none.
	SMTPURL string
	// TeamsPerOwner is how many teams one user may create (counted while they
	// exist); 0 is no limit.
	TeamsPerOwner int
	// MailFrom is the sender of those emails.
	MailFrom string

	// BackupStore is "local" or "s3".
	BackupStore          string
	BackupDir            string
	BackupBaseURL        string
	BackupSigningKey     []byte
	BackupURLTTL         time.Duration
	BackupPendingTimeout time.Duration
	S3Bucket             string
	S3Region             string
	S3Endpoint           string
	S3PathStyle          bool
	S3AccessKeyID        string
	S3SecretAccessKey    string
}

// Backup stores.
const (
	BackupStoreLocal = "local"
	BackupStoreS3    = "s3"
)

// BillingEnabled reports whether Stripe is configured.
func (c Config) BillingEnabled() bool { return c.StripeSecretKey != "" }

// Load reads flags from args (flags win over the environment) and the environment
// through getenv, and checks every value: a configuration Load accepts fails later
// only on what the world says (a port in use, a database down), never on its syntax.
// It writes nothing (secrets come with EnsureSecrets); it reads only whether the data and
// backup directories are directories and, for a PostgreSQL URL, the files pgx reads to parse it
// (passfile, service file, TLS certificates and keys), so a missing one fails here. Every bad value is reported, in the order of the groups
// below, joined in one error. -h or --help in args returns flag.ErrHelp.
func Load(args []string, getenv func(string) string) (Config, error) {
	r, err := newReader(args, getenv)
	if err != nil {
		return Config{}, err
	}
	var c Config
	for _, read := range []func(*reader, *Config){
		readDeployment,
		readAuth,
		readServing,
		readProviderKeys,
		readLLM,
		readWebsiteAnalysis,
		readKnowledge,
		readRateLimits,
		readBilling,
		readBackup,
		readS3,
		readTracing,
		requireProductionSecrets,
	} {
		read(r, &c)
	}
	return c, errors.Join(r.errs...)
}

// newReader parses the flags (each overrides its variable) and returns a reader over
// the flags and the environment.
func newReader(args []string, getenv func(string) string) (*reader, error) {
	fs := flag.NewFlagSet("inkgraph serve", flag.ContinueOnError)
	// The flag package's own listing shows only the flags: the command's help is
	// WriteSettings (every variable).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	flags := map[string]*string{}
	for _, v := range Vars() {
		if v.Flag != "" {
			flags[v.Name] = fs.String(v.Flag, "", "")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return &reader{get: func(name string) string {
		if p := flags[name]; p != nil && *p != "" {
			return *p
		}
		return strings.TrimSpace(getenv(name))
	}}, nil
}

// readDeployment reads the environment, the listen addresses and the database.
func readDeployment(r *reader, c *Config) {
	switch env := r.str("INKGRAPH_ENV", "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		r.fail("INKGRAPH_ENV", fmt.Errorf("want development or production, got %q", env))
	}
	c.Addr = r.str("INKGRAPH_ADDR", ":8080")
	addrOK := r.listenAddr("INKGRAPH_ADDR", c.Addr)
	if c.AdminAddr = r.str("INKGRAPH_ADMIN_ADDR", "127.0.0.1:9090"); c.AdminAddr == "off" {
		c.AdminAddr = ""
	} else if r.listenAddr("INKGRAPH_ADMIN_ADDR", c.AdminAddr) && addrOK {
		if sameListener(c.Addr, c.AdminAddr) {
			r.fail("INKGRAPH_ADMIN_ADDR", fmt.Errorf("%s would share its port with INKGRAPH_ADDR (%s): give the admin listener its own, or off", c.AdminAddr, c.Addr))
		}
	}
	c.MetricsPublic = r.bool("INKGRAPH_METRICS_PUBLIC", false)
	c.DataDir = r.str("INKGRAPH_DATA_DIR", "./data")
	if info, err := os.Stat(c.DataDir); err == nil && !info.IsDir() {
		r.fail("INKGRAPH_DATA_DIR", fmt.Errorf("%s is a file, not a directory", c.DataDir))
	}
	c.Database = database.Config{
		URL:             r.databaseURL("DATABASE_URL"),
		DataDir:         c.DataDir,
		MaxOpenConns:    r.int("INKGRAPH_DB_MAX_OPEN_CONNS", 10, 1, 1000),
		MaxIdleConns:    r.int("INKGRAPH_DB_MAX_IDLE_CONNS", 10, 0, 1000),
		ConnMaxLifetime: r.duration("INKGRAPH_DB_CONN_MAX_LIFETIME", 30*time.Minute),
		BusyTimeout:     r.duration("INKGRAPH_DB_BUSY_TIMEOUT", 5*time.Second),

		NoPreparedStatements: !r.bool("INKGRAPH_DB_PREPARED_STATEMENTS", true),
	}
	c.EventsURL = c.Database.URL
	if r.get("INKGRAPH_EVENTS_DATABASE_URL") != "" {
		c.EventsURL = r.databaseURL("INKGRAPH_EVENTS_DATABASE_URL")
	}
	if c.EventsURL != c.Database.URL && !database.IsPostgres(c.EventsURL) {
		r.fail("INKGRAPH_EVENTS_DATABASE_URL", errors.New("want a postgres:// URL: the events bus LISTENs on PostgreSQL"))
	} else if c.EventsURL != c.Database.URL && !database.IsPostgres(c.Database.URL) {
		r.fail("INKGRAPH_EVENTS_DATABASE_URL", errors.New("is for PostgreSQL deployments: with SQLite events stay in the process"))
	}
	c.AutoMigrate = r.bool("INKGRAPH_AUTO_MIGRATE", !database.IsPostgres(c.Database.URL))
}

// OIDCProvider is one external identity provider: its issuer URL, exactly as its
// tokens spell it (discovery is at the issuer without a trailing slash +
// "/.well-known/openid-configuration"), and the audience (client ID) its tokens must name.
type OIDCProvider struct {
	Issuer   string
	Audience string
}

// readAuth reads the access and refresh tokens' settings and the password hash cost.
func readAuth(r *reader, c *Config) {
	c.JWTSecret = r.secret("INKGRAPH_JWT_SECRET")
	c.JWTIssuer = r.str("INKGRAPH_JWT_ISSUER", "inkgraph")
	c.JWTAudience = r.str("INKGRAPH_JWT_AUDIENCE", "inkgraph-api")
	c.AccessTokenTTL = r.duration("INKGRAPH_ACCESS_TOKEN_TTL", 15*time.Minute)
	c.RefreshTokenTTL = r.duration("INKGRAPH_REFRESH_TOKEN_TTL", 720*time.Hour)
	c.RefreshReuseGrace = r.duration("INKGRAPH_REFRESH_REUSE_GRACE", 2*time.Second)
	c.BcryptCost = r.int("INKGRAPH_BCRYPT_COST", 12, 4, 31)
	c.CookieSessions = r.bool("INKGRAPH_COOKIE_SESSIONS", true)
	c.SessionExpiryWarning = r.duration("INKGRAPH_SESSION_EXPIRY_WARNING", 2*time.Minute)
	for _, entry := range r.list("INKGRAPH_OIDC_PROVIDERS") {
		issuer, audience, ok := strings.Cut(entry, "=")
		// The issuer stays as written, trailing slash and all: a token's iss and the
		// discovery document's issuer must equal it exactly (OpenID Connect Discovery
		// §4.3), and providers differ (Google has none, Auth0 and Zitadel end in "/").
		issuer, audience = strings.TrimSpace(issuer), strings.TrimSpace(audience)
		if !ok || audience == "" || !isHTTPURL(issuer) {
			r.fail("INKGRAPH_OIDC_PROVIDERS", fmt.Errorf("want issuer-URL=audience entries separated by commas, got %q", entry))
			continue
		}
		// Over plain http anyone on the path could serve their own keys.
		if !oidc.SecureURL(issuer) {
			r.fail("INKGRAPH_OIDC_PROVIDERS", fmt.Errorf("issuer %q must be an https URL (plain http only on a loopback host)", issuer))
			continue
		}
		c.OIDCProviders = append(c.OIDCProviders, OIDCProvider{Issuer: issuer, Audience: audience})
	}
	c.OIDCLinkByEmail = r.bool("INKGRAPH_OIDC_LINK_BY_EMAIL", false)
	c.OIDCAlgorithms = r.list("INKGRAPH_OIDC_ALGORITHMS")
	if len(c.OIDCAlgorithms) == 0 {
		c.OIDCAlgorithms = []string{"RS256", "ES256", "EdDSA"}
	}
	for _, alg := range c.OIDCAlgorithms {
		if !slices.Contains([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, alg) {
			r.fail("INKGRAPH_OIDC_ALGORITHMS", fmt.Errorf("unknown or unsafe algorithm %q (asymmetric JWS algorithms only)", alg))
		}
	}
}

// readServing reads the request limits, the transports' timers and the log level.
func readServing(r *reader, c *Config) {
	c.MaxBodyBytes = int64(r.int("INKGRAPH_MAX_BODY_BYTES", 1<<20, 1024, 1<<30))
	c.MaxQueryTokens = r.int("INKGRAPH_MAX_QUERY_TOKENS", 15000, 100, 1_000_000)
	c.MaxQueryDepth = r.int("INKGRAPH_MAX_QUERY_DEPTH", 12, 2, 100)
	c.MaxQueryComplexity = r.int("INKGRAPH_MAX_QUERY_COMPLEXITY", 1000, 10, 1_000_000)
	c.MaxQueryFieldsPerSet = r.int("INKGRAPH_MAX_QUERY_FIELDS_PER_SET", 100, 10, 100_000)
	c.MaxQuerySelections = r.int("INKGRAPH_MAX_QUERY_SELECTIONS", 1500, 100, 1_000_000)
	c.MaxQueryAliases = r.int("INKGRAPH_MAX_QUERY_ALIASES", 50, 0, 100_000)
	c.MaxQueryFragmentSpreads = r.int("INKGRAPH_MAX_QUERY_FRAGMENT_SPREADS", 100, 0, 100_000)
	c.MaxQueryDirectives = r.int("INKGRAPH_MAX_QUERY_DIRECTIVES", 50, 0, 100_000)
	c.MaxQueryVariables = r.int("INKGRAPH_MAX_QUERY_VARIABLES", 50, 0, 100_000)
	c.MaxIntrospectionFields = r.int("INKGRAPH_MAX_INTROSPECTION_FIELDS", 2, 1, 1000)
	c.AllowedOrigins = r.list("INKGRAPH_ALLOWED_ORIGINS")
	c.WSInitTimeout = r.duration("INKGRAPH_WS_INIT_TIMEOUT", 10*time.Second)
	c.KeepAlive = r.duration("INKGRAPH_WS_KEEPALIVE", 15*time.Second)
	c.WSUpgradesPerMinute = r.int("INKGRAPH_WS_UPGRADES_PER_MINUTE", 60, 0, 1_000_000)
	c.WSMaxConnsPerIP = r.int("INKGRAPH_WS_MAX_CONNS_PER_IP", 100, 0, 1_000_000)
	c.WSMaxConns = r.int("INKGRAPH_WS_MAX_CONNS", 10_000, 0, 10_000_000)
	c.ShutdownTimeout = r.duration("INKGRAPH_SHUTDOWN_TIMEOUT", 30*time.Second)
	c.GCHeapFloor = uint64(r.int("INKGRAPH_GC_HEAP_FLOOR_MIB", 64, 0, 1<<20)) << 20
	c.Playground = r.bool("INKGRAPH_PLAYGROUND", !c.Production)
	c.TrustedDocuments = r.str("INKGRAPH_TRUSTED_DOCUMENTS", "")
	c.APQTTL = r.duration("INKGRAPH_APQ_TTL", 24*time.Hour)
	if err := c.LogLevel.UnmarshalText([]byte(r.str("INKGRAPH_LOG_LEVEL", "info"))); err != nil {
		r.fail("INKGRAPH_LOG_LEVEL", err)
	}
}

// readProviderKeys reads the key ring that seals users' provider keys and how those
// keys are checked.
func readProviderKeys(r *reader, c *Config) {
	c.KeyringCurrent = r.int("INKGRAPH_KEYRING_CURRENT", 0, 0, 1<<31-1)
	if c.Keyring = r.str("INKGRAPH_KEYRING", ""); c.Keyring != "" {
		if ring, err := keyring.Parse(c.Keyring); err != nil {
			r.fail("INKGRAPH_KEYRING", err)
		} else if c.KeyringCurrent != 0 {
			if _, err := ring.WithCurrent(c.KeyringCurrent); err != nil {
				r.fail("INKGRAPH_KEYRING_CURRENT", fmt.Errorf("version %d is not in INKGRAPH_KEYRING", c.KeyringCurrent))
			}
		}
	}
	c.LiveKeyCheck = r.bool("INKGRAPH_LIVE_KEY_CHECK", false)
	c.ProviderBaseURLs = map[string]string{}
	for _, entry := range r.list("INKGRAPH_PROVIDER_BASE_URLS") {
		id, u, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(id) == "" || !isHTTPURL(strings.TrimSpace(u)) {
			r.fail("INKGRAPH_PROVIDER_BASE_URLS", fmt.Errorf("want provider=http(s)://host entries, got %q", entry))
			continue
		}
		// One convention for both settings: INKGRAPH_LLM_BASE_URL names the API with its
		// /v1, these name the origin (each caller adds its path); an entry written
		// the LLM way would otherwise ask for /v1/v1/….
		origin := strings.TrimSuffix(strings.TrimRight(strings.TrimSpace(u), "/"), "/v1")
		c.ProviderBaseURLs[strings.ToLower(strings.TrimSpace(id))] = origin
	}
}

// readLLM reads the server's LLM endpoint and the use of users' own keys.
func readLLM(r *reader, c *Config) {
	c.LLMBaseURL = r.httpURL("INKGRAPH_LLM_BASE_URL", "")
	c.LLMAPIKey = r.str("INKGRAPH_LLM_API_KEY", "")
	c.LLMModel = r.str("INKGRAPH_LLM_MODEL", "gpt-4o-mini")
	c.LLMTimeout = r.duration("INKGRAPH_LLM_TIMEOUT", 60*time.Second)
	c.ChatMaxTokens = r.int("INKGRAPH_CHAT_MAX_TOKENS", 1024, 16, 1<<20)
	c.ChatResumeGrace = r.durationOrOff("INKGRAPH_CHAT_RESUME_GRACE", 30*time.Second)
	c.ChatResumeRetain = r.duration("INKGRAPH_CHAT_RESUME_RETAIN", 5*time.Minute)
	c.ChatApprovalTimeout = r.duration("INKGRAPH_CHAT_APPROVAL_TIMEOUT", 2*time.Minute)
	c.BYOK = r.bool("INKGRAPH_BYOK", true)
	c.BYOKModel = r.str("INKGRAPH_BYOK_MODEL", "gpt-4o-mini")
}

// readWebsiteAnalysis reads how onboarding fetches and analyzes a user's website.
func readWebsiteAnalysis(r *reader, c *Config) {
	c.FetchTimeout = r.duration("INKGRAPH_FETCH_TIMEOUT", 10*time.Second)
	c.FetchMaxBytes = int64(r.int("INKGRAPH_FETCH_MAX_BYTES", 2<<20, 1024, 1<<30))
	c.FetchAllow = r.prefixes("INKGRAPH_FETCH_ALLOW")
	c.BrandAnalysis = r.bool("INKGRAPH_BRAND_ANALYSIS", false)
}

// readKnowledge reads the knowledge area's limits and its embeddings endpoint.
func readKnowledge(r *reader, c *Config) {
	c.KnowledgeMaxBytes = int64(r.int("INKGRAPH_KNOWLEDGE_MAX_BYTES", 20<<20, 1024, 1<<30))
	c.EmbeddingsBaseURL = r.httpURL("INKGRAPH_EMBEDDINGS_BASE_URL", "")
	c.EmbeddingsAPIKey = r.str("INKGRAPH_EMBEDDINGS_API_KEY", "")
	c.EmbeddingsModel = r.str("INKGRAPH_EMBEDDINGS_MODEL", "text-embedding-3-small")
	c.EmbeddingsDimensions = r.int("INKGRAPH_EMBEDDINGS_DIMENSIONS", 384, 8, 8192)
}

// readRateLimits reads the request and sign-in budgets, where they are counted, and
// whose forwarded addresses name the client.
func readRateLimits(r *reader, c *Config) {
	if c.RedisURL = r.str("REDIS_URL", ""); c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			r.fail("REDIS_URL", errors.New("want redis://host:port/db or rediss://…"))
		} else if _, err := redis.ParseURL(c.RedisURL); err != nil {
			r.fail("REDIS_URL", fmt.Errorf("not a usable Redis URL: %w", withoutURL(err)))
		}
	}
	c.RateLimits = r.bool("INKGRAPH_RATE_LIMITS", true)
	c.LoginLimitPerAccount = r.limit("INKGRAPH_LOGIN_LIMIT_PER_ACCOUNT", ratelimit.Limit{Rate: 10, Period: 15 * time.Minute, Burst: 10})
	c.LoginLimitPerIP = r.limit("INKGRAPH_LOGIN_LIMIT_PER_IP", ratelimit.Limit{Rate: 30, Period: 15 * time.Minute, Burst: 30})
	c.SchemaRateLimit = r.limit("INKGRAPH_SCHEMA_RATE_LIMIT", ratelimit.Limit{Rate: 120, Period: time.Minute, Burst: 120})
	c.TrustedProxies = r.prefixes("INKGRAPH_TRUSTED_PROXIES")
}

// readBilling reads Stripe's settings and where checkout sends the user back.
func readBilling(r *reader, c *Config) {
	c.StripeSecretKey = r.str("STRIPE_SECRET_KEY", "")
	c.StripeWebhookSecret = r.str("STRIPE_WEBHOOK_SECRET", "")
	c.StripeAPIBase = r.httpURL("STRIPE_API_BASE", "https://api.stripe.com")
	c.StripePrices = map[models.Tier]string{}
	for tier, name := range map[models.Tier]string{models.TierPro: "STRIPE_PRICE_PRO", models.TierPower: "STRIPE_PRICE_POWER", models.TierTeam: "STRIPE_PRICE_TEAM"} {
		if v := r.str(name, ""); v != "" {
			c.StripePrices[tier] = v
		}
	}
	if c.StripeSecretKey != "" && c.StripeWebhookSecret == "" {
		r.fail("STRIPE_WEBHOOK_SECRET", errors.New("is required with STRIPE_SECRET_KEY: webhooks could not be verified"))
	}
	c.PublicURL = r.baseURL("INKGRAPH_PUBLIC_URL", "http://localhost:8080")
	c.PastDueGrace = r.duration("INKGRAPH_PAST_DUE_GRACE", 72*time.Hour)
	c.TeamsPerOwner = r.int("INKGRAPH_TEAMS_PER_OWNER", 5, 0, 1_000_000)
	c.SMTPURL = r.str("INKGRAPH_SMTP_URL", "")
	c.MailFrom = r.str("INKGRAPH_MAIL_FROM", "Inkgraph <noreply@localhost>")
	if c.SMTPURL != "" {
		// Checked now, so that a server with a broken mail set-up does not start; the
		// error never repeats the URL, which may hold a password.
		if _, err := mail.New(mail.Config{URL: c.SMTPURL, From: c.MailFrom}); err != nil {
			r.fail("INKGRAPH_SMTP_URL", err) // mail's errors never repeat the URL
		}
	}
}

// readBackup reads where backup blobs live and how long their signed URLs work.
func readBackup(r *reader, c *Config) {
	switch c.BackupStore = r.str("INKGRAPH_BACKUP_STORE", BackupStoreLocal); c.BackupStore {
	case BackupStoreLocal, BackupStoreS3:
	default:
		r.fail("INKGRAPH_BACKUP_STORE", fmt.Errorf("want local or s3, got %q", c.BackupStore))
	}
	c.BackupDir = r.str("INKGRAPH_BACKUP_DIR", filepath.Join(c.DataDir, "backups"))
	if info, err := os.Stat(c.BackupDir); err == nil && !info.IsDir() && c.BackupStore == BackupStoreLocal {
		r.fail("INKGRAPH_BACKUP_DIR", fmt.Errorf("%s is a file, not a directory", c.BackupDir))
	}
	c.BackupBaseURL = r.baseURL("INKGRAPH_BACKUP_BASE_URL", listenerURL(c.Addr))
	c.BackupSigningKey = r.secret("INKGRAPH_BACKUP_SIGNING_KEY")
	c.BackupURLTTL = r.duration("INKGRAPH_BACKUP_URL_TTL", 15*time.Minute)
	if c.BackupURLTTL < time.Second || c.BackupURLTTL > 7*24*time.Hour {
		r.fail("INKGRAPH_BACKUP_URL_TTL", fmt.Errorf("want from 1s to 168h (S3's limit), got %s", c.BackupURLTTL))
	}
	c.BackupPendingTimeout = r.duration("INKGRAPH_BACKUP_PENDING_TIMEOUT", time.Hour)
	if c.BackupPendingTimeout <= c.BackupURLTTL {
		r.fail("INKGRAPH_BACKUP_PENDING_TIMEOUT", fmt.Errorf("must exceed INKGRAPH_BACKUP_URL_TTL (%s), or uploads in progress would be removed", c.BackupURLTTL))
	}
}

// readS3 reads the S3 store's bucket and credentials (read whichever store is chosen,
// so a bad value is reported before it is needed).
func readS3(r *reader, c *Config) {
	c.S3Bucket = r.str("S3_BUCKET", "")
	c.S3Region = r.str("S3_REGION", "us-east-1")
	c.S3Endpoint = r.httpURL("S3_ENDPOINT", "")
	c.S3PathStyle = r.bool("S3_PATH_STYLE", false)
	c.S3AccessKeyID = r.str("S3_ACCESS_KEY_ID", "")
	c.S3SecretAccessKey = r.str("S3_SECRET_ACCESS_KEY", "")
	if (c.S3AccessKeyID == "") != (c.S3SecretAccessKey == "") {
		r.fail("S3_SECRET_ACCESS_KEY", errors.New("set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither (the SDK's default chain)"))
	}
	if c.BackupStore == BackupStoreS3 && c.S3Bucket == "" {
		r.fail("S3_BUCKET", errors.New("is required with INKGRAPH_BACKUP_STORE=s3"))
	}
}

// readTracing checks the OpenTelemetry variables the SDK reads (tracing.Setup), so a
// typo is refused at start rather than exporting nothing in silence.
func readTracing(r *reader, _ *Config) {
	if _, err := tracing.Protocol(r.get); err != nil {
		r.errs = append(r.errs, err) // it names its variable
	}
	r.httpURL("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	r.httpURL("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	switch v := r.get("OTEL_TRACES_EXPORTER"); strings.ToLower(v) {
	case "", "otlp", "none":
	default:
		r.fail("OTEL_TRACES_EXPORTER", fmt.Errorf("want otlp or none (Inkgraph exports traces with OTLP only), got %q", v))
	}
	r.bool("OTEL_SDK_DISABLED", false)
}

// requireProductionSecrets refuses production without the secrets embedded mode
// would otherwise generate.
func requireProductionSecrets(r *reader, c *Config) {
	if !c.Production {
		return
	}
	if len(c.JWTSecret) == 0 {
		r.fail("INKGRAPH_JWT_SECRET", errors.New("is required when INKGRAPH_ENV=production"))
	}
	if c.Keyring == "" {
		r.fail("INKGRAPH_KEYRING", errors.New("is required when INKGRAPH_ENV=production"))
	}
	if c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
		r.fail("INKGRAPH_BACKUP_SIGNING_KEY", errors.New("is required when INKGRAPH_ENV=production with the local backup store"))
	}
}

// listenerURL is where a client on this machine reaches the listener at addr: its host
// when it names one (localhost when it listens on every interface), its port (8080
// when it is not known before binding). The signed URLs of the local backup store
// default to it, so that they point at the server whatever port it listens on.
func listenerURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		port = "8080"
	}
	if everyInterface(host) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

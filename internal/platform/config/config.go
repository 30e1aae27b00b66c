// Package config reads Inkgraph's configuration from flags and the environment, and
// owns the secrets embedded mode generates for itself. Every variable is declared once,
// in Vars, with its default; README.md's table is checked against it.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/models"
)

// Var is one configuration variable.
type Var struct {
	Name    string
	Flag    string // command-line flag that overrides it, if any
	Default string
	Help    string
}

// Vars lists every variable Inkgraph reads, with its default.
func Vars() []Var {
	return []Var{
		{"INKGRAPH_ENV", "", "development", "`development` or `production`; production refuses to start without real secrets and turns off introspection and field suggestions"},
		{"INKGRAPH_ADDR", "addr", ":8080", "listen address"},
		{"INKGRAPH_DATA_DIR", "data-dir", "./data", "embedded mode's directory: the SQLite database and generated secrets"},
		{"DATABASE_URL", "database-url", "", "`postgres://…` for PostgreSQL; empty or `sqlite:PATH` for embedded SQLite (`DATA_DIR/inkgraph.db`)"},
		{"INKGRAPH_AUTO_MIGRATE", "", "true with SQLite, false with PostgreSQL", "apply pending migrations at start (otherwise run `inkgraph migrate up`)"},
		{"INKGRAPH_DB_MAX_OPEN_CONNS", "", "10", "PostgreSQL pool size (SQLite always uses one connection)"},
		{"INKGRAPH_DB_MAX_IDLE_CONNS", "", "10", "idle PostgreSQL connections kept"},
		{"INKGRAPH_DB_CONN_MAX_LIFETIME", "", "30m", "recycle PostgreSQL connections after this long"},
		{"INKGRAPH_DB_BUSY_TIMEOUT", "", "5s", "how long SQLite waits for a lock"},
		{"INKGRAPH_JWT_SECRET", "", "generated into DATA_DIR/secrets/jwt.key (not in production)", "HS256 signing key for access tokens, at least 32 bytes"},
		{"INKGRAPH_JWT_ISSUER", "", "inkgraph", "`iss` of access tokens"},
		{"INKGRAPH_JWT_AUDIENCE", "", "inkgraph-api", "`aud` of access tokens"},
		{"INKGRAPH_ACCESS_TOKEN_TTL", "", "15m", "access token lifetime"},
		{"INKGRAPH_REFRESH_TOKEN_TTL", "", "720h", "refresh token lifetime (each use rotates it)"},
		{"INKGRAPH_BCRYPT_COST", "", "12", "bcrypt cost for passwords (4 to 31)"},
		{"INKGRAPH_MAX_BODY_BYTES", "", "1048576", "largest request body; larger gets 413"},
		{"INKGRAPH_MAX_QUERY_TOKENS", "", "15000", "parser token limit per document"},
		{"INKGRAPH_MAX_QUERY_DEPTH", "", "12", "deepest selection allowed (introspection fields excluded)"},
		{"INKGRAPH_MAX_QUERY_COMPLEXITY", "", "1000", "complexity budget per operation; list fields cost their page size"},
		{"INKGRAPH_ALLOWED_ORIGINS", "", "", "comma-separated origins allowed for CORS and WebSocket (`*` for any); empty allows same-origin only"},
		{"INKGRAPH_WS_INIT_TIMEOUT", "", "10s", "WebSocket connections must send connection_init within this (else 4408)"},
		{"INKGRAPH_WS_KEEPALIVE", "", "15s", "keep-alive ping interval on WebSocket and SSE"},
		{"INKGRAPH_SHUTDOWN_TIMEOUT", "", "30s", "how long SIGTERM waits for requests and subscriptions to finish"},
		{"INKGRAPH_LOG_LEVEL", "", "info", "`debug`, `info`, `warn` or `error`; logs are JSON lines on stdout"},
		{"INKGRAPH_KEYRING", "", "generated into DATA_DIR/secrets/keyring (not in production)", "AES-256 keys that encrypt provider API keys at rest, `1:base64key,2:base64key`; the highest version encrypts, older ones still decrypt (`inkgraph keys rotate` re-encrypts)"},
		{"INKGRAPH_KEYRING_CURRENT", "", "the highest version", "the key-ring version that encrypts new values; pin the old one while a new version rolls out to every instance, then raise it and run `inkgraph keys rotate`"},
		{"INKGRAPH_LIVE_KEY_CHECK", "", "false", "check provider API keys with the provider when saved; a key then counts as validated only once the provider accepted it"},
		{"INKGRAPH_PROVIDER_BASE_URLS", "", "", "comma-separated `provider=URL` overrides of the providers' API base URLs used by live key checks (proxies, tests)"},
		{"INKGRAPH_LLM_BASE_URL", "", "", "OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp server), e.g. `https://api.openai.com/v1`; empty: no LLM, personas come from the deterministic generator"},
		{"INKGRAPH_LLM_API_KEY", "", "", "the server's key for INKGRAPH_LLM_BASE_URL (may be empty for local servers)"},
		{"INKGRAPH_LLM_MODEL", "", "gpt-4o-mini", "model name sent to the LLM endpoint"},
		{"INKGRAPH_LLM_TIMEOUT", "", "60s", "longest wait for an LLM's first byte, and then for each next piece of a streamed answer"},
		{"INKGRAPH_CHAT_MAX_TOKENS", "", "1024", "longest answer, in tokens, of each LLM call a chat or playbook makes"},
		{"INKGRAPH_BYOK", "", "true", "on tiers with BYOK (power, team), chat and playbooks use the user's own validated OpenAI key (sent to the `openai` entry of INKGRAPH_PROVIDER_BASE_URLS, else api.openai.com) instead of the server's LLM"},
		{"INKGRAPH_BYOK_MODEL", "", "gpt-4o-mini", "the OpenAI model asked with a user's own key"},
		{"INKGRAPH_FETCH_TIMEOUT", "", "10s", "longest website fetch, redirects and body included"},
		{"INKGRAPH_FETCH_MAX_BYTES", "", "2097152", "largest web page analyzed"},
		{"INKGRAPH_FETCH_ALLOW", "", "", "comma-separated addresses or CIDR prefixes website analysis may fetch although private or loopback (intranets, tests); everything private is refused otherwise"},
		{"INKGRAPH_BRAND_ANALYSIS", "", "false", "website analysis also extracts brand colours, fonts, theme colour and logo"},
		{"REDIS_URL", "", "", "`redis://…`: rate-limit budgets are shared by every instance through Redis; empty: each process counts alone"},
		{"INKGRAPH_RATE_LIMITS", "", "true", "enforce the per-tier request budgets (20/60/120/200 per minute; team per seat)"},
		{"INKGRAPH_LOGIN_LIMIT_PER_ACCOUNT", "", "10/15m", "sign-in attempts allowed per account, as `count/period`"},
		{"INKGRAPH_LOGIN_LIMIT_PER_IP", "", "30/15m", "sign-in and registration attempts allowed per client address, as `count/period`"},
		{"INKGRAPH_TRUSTED_PROXIES", "", "", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For names the client; empty: the connection's address is the client"},
		{"STRIPE_SECRET_KEY", "", "", "Stripe secret key (`sk_…`); empty: billing is off, everyone is on the free tier and checkout answers BILLING_NOT_CONFIGURED"},
		{"STRIPE_WEBHOOK_SECRET", "", "", "signing secret (`whsec_…`) of the endpoint POST /webhooks/stripe"},
		{"STRIPE_API_BASE", "", "https://api.stripe.com", "Stripe API base URL (stripe-mock in tests)"},
		{"STRIPE_PRICE_PRO", "", "", "Stripe price ID of the pro tier"},
		{"STRIPE_PRICE_POWER", "", "", "Stripe price ID of the power tier"},
		{"STRIPE_PRICE_TEAM", "", "", "Stripe price ID of the team tier (quantity = seats)"},
		{"INKGRAPH_PUBLIC_URL", "", "http://localhost:8080", "where the frontend lives: checkout and the billing portal send the user back here"},
		{"INKGRAPH_PAST_DUE_GRACE", "", "72h", "how long a subscription whose payment failed keeps its tier before it falls back to free"},
		{"INKGRAPH_BACKUP_STORE", "", "local", "where backup blobs live: `local` (a directory, served through this server's signed /blobs URLs) or `s3`"},
		{"INKGRAPH_BACKUP_DIR", "", "DATA_DIR/backups", "the local store's directory (instances sharing PostgreSQL must share it, or use S3)"},
		{"INKGRAPH_BACKUP_BASE_URL", "", "http://localhost:8080", "where clients reach this server: the local store's signed URLs are `BASE_URL/blobs/…`"},
		{"INKGRAPH_BACKUP_SIGNING_KEY", "", "generated into DATA_DIR/secrets/backup.key (not in production)", "HMAC-SHA256 key of the local store's signed URLs, at least 32 bytes; required with PostgreSQL and in production when the store is local"},
		{"INKGRAPH_BACKUP_URL_TTL", "", "15m", "how long a signed upload or download URL works (at most 7 days)"},
		{"INKGRAPH_BACKUP_PENDING_TIMEOUT", "", "1h", "uploads not completed this long after their request are deleted (object and metadata); must exceed INKGRAPH_BACKUP_URL_TTL"},
		{"S3_BUCKET", "", "", "the bucket of the s3 store (required with INKGRAPH_BACKUP_STORE=s3)"},
		{"S3_REGION", "", "us-east-1", "the bucket's region"},
		{"S3_ENDPOINT", "", "", "S3 API base URL for MinIO, Ceph, versitygw or another S3-compatible server; empty: AWS"},
		{"S3_PATH_STYLE", "", "false", "address the bucket as `ENDPOINT/BUCKET/key` (most S3-compatible servers) instead of `BUCKET.ENDPOINT/key`"},
		{"S3_ACCESS_KEY_ID", "", "", "S3 access key; empty (with S3_SECRET_ACCESS_KEY): the AWS SDK's default chain (environment, shared files, instance role)"},
		{"S3_SECRET_ACCESS_KEY", "", "", "S3 secret key, set together with S3_ACCESS_KEY_ID"},
	}
}

// Config is the whole configuration.
type Config struct {
	Production  bool
	Addr        string
	DataDir     string
	Database    database.Config
	AutoMigrate bool

	JWTSecret       []byte
	JWTIssuer       string
	JWTAudience     string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	BcryptCost      int

	MaxBodyBytes       int64
	MaxQueryTokens     int
	MaxQueryDepth      int
	MaxQueryComplexity int
	AllowedOrigins     []string
	WSInitTimeout      time.Duration
	KeepAlive          time.Duration
	ShutdownTimeout    time.Duration
	LogLevel           slog.Level

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
	BYOK             bool
	BYOKModel        string
	FetchTimeout     time.Duration
	FetchMaxBytes    int64
	FetchAllow       []netip.Prefix
	BrandAnalysis    bool

	RedisURL             string
	RateLimits           bool
	LoginLimitPerAccount ratelimit.Limit
	LoginLimitPerIP      ratelimit.Limit
	TrustedProxies       []netip.Prefix

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	StripePrices        map[models.Tier]string
	PublicURL           string
	PastDueGrace        time.Duration

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
// through getenv. It does not touch the file system: secrets come with EnsureSecrets.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("inkgraph serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	flags := map[string]*string{}
	for _, v := range Vars() {
		if v.Flag != "" {
			flags[v.Name] = fs.String(v.Flag, "", v.Help+" (env "+v.Name+", default "+v.Default+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	r := reader{get: func(name string) string {
		if p := flags[name]; p != nil && *p != "" {
			return *p
		}
		return strings.TrimSpace(getenv(name))
	}}

	var c Config
	switch env := r.str("INKGRAPH_ENV", "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		r.fail("INKGRAPH_ENV", fmt.Errorf("want development or production, got %q", env))
	}
	c.Addr = r.str("INKGRAPH_ADDR", ":8080")
	c.DataDir = r.str("INKGRAPH_DATA_DIR", "./data")
	c.Database = database.Config{
		URL:             r.str("DATABASE_URL", ""),
		DataDir:         c.DataDir,
		MaxOpenConns:    r.int("INKGRAPH_DB_MAX_OPEN_CONNS", 10, 1, 1000),
		MaxIdleConns:    r.int("INKGRAPH_DB_MAX_IDLE_CONNS", 10, 0, 1000),
		ConnMaxLifetime: r.duration("INKGRAPH_DB_CONN_MAX_LIFETIME", 30*time.Minute),
		BusyTimeout:     r.duration("INKGRAPH_DB_BUSY_TIMEOUT", 5*time.Second),
	}
	c.AutoMigrate = r.bool("INKGRAPH_AUTO_MIGRATE", !database.IsPostgres(c.Database.URL))
	if s := r.str("INKGRAPH_JWT_SECRET", ""); s != "" {
		c.JWTSecret = []byte(s)
		if len(c.JWTSecret) < 32 {
			r.fail("INKGRAPH_JWT_SECRET", errors.New("must be at least 32 bytes"))
		}
	}
	c.JWTIssuer = r.str("INKGRAPH_JWT_ISSUER", "inkgraph")
	c.JWTAudience = r.str("INKGRAPH_JWT_AUDIENCE", "inkgraph-api")
	c.AccessTokenTTL = r.duration("INKGRAPH_ACCESS_TOKEN_TTL", 15*time.Minute)
	c.RefreshTokenTTL = r.duration("INKGRAPH_REFRESH_TOKEN_TTL", 720*time.Hour)
	c.BcryptCost = r.int("INKGRAPH_BCRYPT_COST", 12, 4, 31)
	c.MaxBodyBytes = int64(r.int("INKGRAPH_MAX_BODY_BYTES", 1<<20, 1024, 1<<30))
	c.MaxQueryTokens = r.int("INKGRAPH_MAX_QUERY_TOKENS", 15000, 100, 1_000_000)
	c.MaxQueryDepth = r.int("INKGRAPH_MAX_QUERY_DEPTH", 12, 2, 100)
	c.MaxQueryComplexity = r.int("INKGRAPH_MAX_QUERY_COMPLEXITY", 1000, 10, 1_000_000)
	c.AllowedOrigins = r.list("INKGRAPH_ALLOWED_ORIGINS")
	c.WSInitTimeout = r.duration("INKGRAPH_WS_INIT_TIMEOUT", 10*time.Second)
	c.KeepAlive = r.duration("INKGRAPH_WS_KEEPALIVE", 15*time.Second)
	c.ShutdownTimeout = r.duration("INKGRAPH_SHUTDOWN_TIMEOUT", 30*time.Second)
	if err := c.LogLevel.UnmarshalText([]byte(r.str("INKGRAPH_LOG_LEVEL", "info"))); err != nil {
		r.fail("INKGRAPH_LOG_LEVEL", err)
	}
	if c.Keyring = r.str("INKGRAPH_KEYRING", ""); c.Keyring != "" {
		if _, err := keyring.Parse(c.Keyring); err != nil {
			r.fail("INKGRAPH_KEYRING", err)
		}
	}
	c.KeyringCurrent = r.int("INKGRAPH_KEYRING_CURRENT", 0, 0, 1<<31-1)
	c.LiveKeyCheck = r.bool("INKGRAPH_LIVE_KEY_CHECK", false)
	c.ProviderBaseURLs = map[string]string{}
	for _, entry := range r.list("INKGRAPH_PROVIDER_BASE_URLS") {
		id, u, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(id) == "" || !isHTTPURL(strings.TrimSpace(u)) {
			r.fail("INKGRAPH_PROVIDER_BASE_URLS", fmt.Errorf("want provider=http(s)://host entries, got %q", entry))
			continue
		}
		c.ProviderBaseURLs[strings.ToLower(strings.TrimSpace(id))] = strings.TrimSpace(u)
	}
	if c.LLMBaseURL = r.str("INKGRAPH_LLM_BASE_URL", ""); c.LLMBaseURL != "" && !isHTTPURL(c.LLMBaseURL) {
		r.fail("INKGRAPH_LLM_BASE_URL", fmt.Errorf("want an http(s) URL, got %q", c.LLMBaseURL))
	}
	c.LLMAPIKey = r.str("INKGRAPH_LLM_API_KEY", "")
	c.LLMModel = r.str("INKGRAPH_LLM_MODEL", "gpt-4o-mini")
	c.LLMTimeout = r.duration("INKGRAPH_LLM_TIMEOUT", 60*time.Second)
	c.ChatMaxTokens = r.int("INKGRAPH_CHAT_MAX_TOKENS", 1024, 16, 1<<20)
	c.BYOK = r.bool("INKGRAPH_BYOK", true)
	c.BYOKModel = r.str("INKGRAPH_BYOK_MODEL", "gpt-4o-mini")
	c.FetchTimeout = r.duration("INKGRAPH_FETCH_TIMEOUT", 10*time.Second)
	c.FetchMaxBytes = int64(r.int("INKGRAPH_FETCH_MAX_BYTES", 2<<20, 1024, 1<<30))
	c.FetchAllow = r.prefixes("INKGRAPH_FETCH_ALLOW")
	c.BrandAnalysis = r.bool("INKGRAPH_BRAND_ANALYSIS", false)

	if c.RedisURL = r.str("REDIS_URL", ""); c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			r.fail("REDIS_URL", errors.New("want redis://host:port/db or rediss://…"))
		}
	}
	c.RateLimits = r.bool("INKGRAPH_RATE_LIMITS", true)
	c.LoginLimitPerAccount = r.limit("INKGRAPH_LOGIN_LIMIT_PER_ACCOUNT", ratelimit.Limit{Rate: 10, Period: 15 * time.Minute, Burst: 10})
	c.LoginLimitPerIP = r.limit("INKGRAPH_LOGIN_LIMIT_PER_IP", ratelimit.Limit{Rate: 30, Period: 15 * time.Minute, Burst: 30})
	c.TrustedProxies = r.prefixes("INKGRAPH_TRUSTED_PROXIES")

	c.StripeSecretKey = r.str("STRIPE_SECRET_KEY", "")
	c.StripeWebhookSecret = r.str("STRIPE_WEBHOOK_SECRET", "")
	c.StripeAPIBase = r.str("STRIPE_API_BASE", "https://api.stripe.com")
	if !isHTTPURL(c.StripeAPIBase) {
		r.fail("STRIPE_API_BASE", fmt.Errorf("want an http(s) URL, got %q", c.StripeAPIBase))
	}
	c.StripePrices = map[models.Tier]string{}
	for tier, name := range map[models.Tier]string{models.TierPro: "STRIPE_PRICE_PRO", models.TierPower: "STRIPE_PRICE_POWER", models.TierTeam: "STRIPE_PRICE_TEAM"} {
		if v := r.str(name, ""); v != "" {
			c.StripePrices[tier] = v
		}
	}
	if c.StripeSecretKey != "" && c.StripeWebhookSecret == "" {
		r.fail("STRIPE_WEBHOOK_SECRET", errors.New("is required with STRIPE_SECRET_KEY: webhooks could not be verified"))
	}
	if c.PublicURL = strings.TrimRight(r.str("INKGRAPH_PUBLIC_URL", "http://localhost:8080"), "/"); !isHTTPURL(c.PublicURL) {
		r.fail("INKGRAPH_PUBLIC_URL", fmt.Errorf("want an http(s) URL, got %q", c.PublicURL))
	}
	c.PastDueGrace = r.duration("INKGRAPH_PAST_DUE_GRACE", 72*time.Hour)

	switch c.BackupStore = r.str("INKGRAPH_BACKUP_STORE", BackupStoreLocal); c.BackupStore {
	case BackupStoreLocal, BackupStoreS3:
	default:
		r.fail("INKGRAPH_BACKUP_STORE", fmt.Errorf("want local or s3, got %q", c.BackupStore))
	}
	c.BackupDir = r.str("INKGRAPH_BACKUP_DIR", filepath.Join(c.DataDir, "backups"))
	if c.BackupBaseURL = strings.TrimRight(r.str("INKGRAPH_BACKUP_BASE_URL", "http://localhost:8080"), "/"); !isHTTPURL(c.BackupBaseURL) {
		r.fail("INKGRAPH_BACKUP_BASE_URL", fmt.Errorf("want an http(s) URL, got %q", c.BackupBaseURL))
	}
	if s := r.str("INKGRAPH_BACKUP_SIGNING_KEY", ""); s != "" {
		c.BackupSigningKey = []byte(s)
		if len(c.BackupSigningKey) < 32 {
			r.fail("INKGRAPH_BACKUP_SIGNING_KEY", errors.New("must be at least 32 bytes"))
		}
	}
	c.BackupURLTTL = r.duration("INKGRAPH_BACKUP_URL_TTL", 15*time.Minute)
	if c.BackupURLTTL < time.Second || c.BackupURLTTL > 7*24*time.Hour {
		r.fail("INKGRAPH_BACKUP_URL_TTL", fmt.Errorf("want from 1s to 168h (S3's limit), got %s", c.BackupURLTTL))
	}
	c.BackupPendingTimeout = r.duration("INKGRAPH_BACKUP_PENDING_TIMEOUT", time.Hour)
	if c.BackupPendingTimeout <= c.BackupURLTTL {
		r.fail("INKGRAPH_BACKUP_PENDING_TIMEOUT", fmt.Errorf("must exceed INKGRAPH_BACKUP_URL_TTL (%s), or uploads in progress would be removed", c.BackupURLTTL))
	}
	c.S3Bucket = r.str("S3_BUCKET", "")
	c.S3Region = r.str("S3_REGION", "us-east-1")
	if c.S3Endpoint = r.str("S3_ENDPOINT", ""); c.S3Endpoint != "" && !isHTTPURL(c.S3Endpoint) {
		r.fail("S3_ENDPOINT", fmt.Errorf("want an http(s) URL, got %q", c.S3Endpoint))
	}
	c.S3PathStyle = r.bool("S3_PATH_STYLE", false)
	c.S3AccessKeyID = r.str("S3_ACCESS_KEY_ID", "")
	c.S3SecretAccessKey = r.str("S3_SECRET_ACCESS_KEY", "")
	if (c.S3AccessKeyID == "") != (c.S3SecretAccessKey == "") {
		r.fail("S3_SECRET_ACCESS_KEY", errors.New("set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither (the SDK's default chain)"))
	}
	if c.BackupStore == BackupStoreS3 && c.S3Bucket == "" {
		r.fail("S3_BUCKET", errors.New("is required with INKGRAPH_BACKUP_STORE=s3"))
	}

	if c.Production && len(c.JWTSecret) == 0 {
		r.fail("INKGRAPH_JWT_SECRET", errors.New("is required when INKGRAPH_ENV=production"))
	}
	if c.Production && c.Keyring == "" {
		r.fail("INKGRAPH_KEYRING", errors.New("is required when INKGRAPH_ENV=production"))
	}
	if c.Production && c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
		r.fail("INKGRAPH_BACKUP_SIGNING_KEY", errors.New("is required when INKGRAPH_ENV=production with the local backup store"))
	}
	return c, errors.Join(r.errs...)
}

// EnsureSecrets fills in the secrets embedded mode may generate: each is read from
// DATA_DIR/secrets, or created there with mode 0600 and a warning. Production never
// gets here without them (Load refuses).
func (c *Config) EnsureSecrets(logger *slog.Logger) error {
	if database.IsPostgres(c.Database.URL) {
		// Instances sharing PostgreSQL must share their secrets: one generated per
		// instance would sign tokens and seal keys the others cannot read.
		var missing []string
		if len(c.JWTSecret) == 0 {
			missing = append(missing, "INKGRAPH_JWT_SECRET")
		}
		if c.Keyring == "" {
			missing = append(missing, "INKGRAPH_KEYRING")
		}
		if c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
			missing = append(missing, "INKGRAPH_BACKUP_SIGNING_KEY")
		}
		if len(missing) > 0 {
			return fmt.Errorf("%s must be set with PostgreSQL: instances sharing a database must share secrets", joinAnd(missing))
		}
	}
	if len(c.JWTSecret) == 0 {
		secret, err := loadOrCreateSecret(filepath.Join(c.DataDir, "secrets", "jwt.key"), logger)
		if err != nil {
			return err
		}
		c.JWTSecret = secret
	}
	if c.BackupStore == BackupStoreLocal && len(c.BackupSigningKey) == 0 {
		secret, err := loadOrCreateSecret(filepath.Join(c.DataDir, "secrets", "backup.key"), logger)
		if err != nil {
			return err
		}
		c.BackupSigningKey = secret
	}
	if c.Keyring == "" {
		path := filepath.Join(c.DataDir, "secrets", "keyring")
		spec, err := loadOrCreateKeyring(path, logger)
		if err != nil {
			return err
		}
		c.Keyring, c.KeyringFile = spec, path
	}
	return nil
}

func loadOrCreateKeyring(path string, logger *slog.Logger) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		spec := strings.TrimSpace(string(b))
		if _, err := keyring.Parse(spec); err != nil {
			return "", fmt.Errorf("key ring file %s is damaged (%w): provider keys encrypted with it cannot be read without it", path, err)
		}
		return spec, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read key ring: %w", err)
	}
	key, err := keyring.Generate()
	if err != nil {
		return "", err
	}
	spec := "1:" + base64.StdEncoding.EncodeToString(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("secret directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateKeyring(path, logger)
	}
	if err != nil {
		return "", fmt.Errorf("create key ring: %w", err)
	}
	if _, err := f.WriteString(spec + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	logger.Warn("generated a key ring for embedded mode; set INKGRAPH_KEYRING in production", "path", path)
	return spec, nil
}

// Ring builds the key ring the configuration describes, sealing with KeyringCurrent
// when it is set.
func (c *Config) Ring() (*keyring.Ring, error) {
	ring, err := keyring.Parse(c.Keyring)
	if err != nil {
		return nil, err
	}
	if c.KeyringCurrent != 0 {
		return ring.WithCurrent(c.KeyringCurrent)
	}
	return ring, nil
}

// ReloadRing reads the key ring again from the data directory, where `keys rotate`
// may have added a version since this process started; nil when the ring comes from
// INKGRAPH_KEYRING (the operator rolls that out).
func (c *Config) ReloadRing() func() (*keyring.Ring, error) {
	if c.KeyringFile == "" {
		return nil
	}
	path := c.KeyringFile
	return func() (*keyring.Ring, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read key ring: %w", err)
		}
		return keyring.Parse(strings.TrimSpace(string(b)))
	}
}

// AddKeyringVersion generates a new key as the next version of a key ring kept in
// the data directory and writes the file back (old versions stay, so existing values
// can still be opened). A ring given in INKGRAPH_KEYRING is the operator's to extend.
func (c *Config) AddKeyringVersion() (int, error) {
	if c.KeyringFile == "" {
		return 0, errors.New("the key ring comes from INKGRAPH_KEYRING: add a new version there (version:base64key) and run keys rotate again")
	}
	ring, err := keyring.Parse(c.Keyring)
	if err != nil {
		return 0, err
	}
	key, err := keyring.Generate()
	if err != nil {
		return 0, err
	}
	next := ring.Current() + 1
	spec := c.Keyring + "," + strconv.Itoa(next) + ":" + base64.StdEncoding.EncodeToString(key)
	tmp := c.KeyringFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(spec+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("write key ring: %w", err)
	}
	if err := os.Rename(tmp, c.KeyringFile); err != nil {
		return 0, fmt.Errorf("replace key ring: %w", err)
	}
	c.Keyring = spec
	return next, nil
}

// joinAnd lists names as "a", "a and b" or "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func loadOrCreateSecret(path string, logger *slog.Logger) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("secret file %s is damaged: delete it to generate a new one", path)
		}
		return secret, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret directory: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateSecret(path, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	logger.Warn("generated a secret for embedded mode; set it explicitly in production", "path", path)
	return secret, nil
}

// reader parses variables, collecting every error so a bad configuration is reported whole.
type reader struct {
	get  func(string) string
	errs []error
}

func (r *reader) fail(name string, err error) {
	r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
}

func (r *reader) str(name, def string) string {
	if v := r.get(name); v != "" {
		return v
	}
	return def
}

func (r *reader) int(name string, def, lo, hi int) int {
	v := r.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Errorf("want a positive duration such as 30s or 15m, got %q", v))
		return def
	}
	return d
}

func (r *reader) bool(name string, def bool) bool {
	v := r.get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Errorf("want true or false, got %q", v))
		return def
	}
	return b
}

// prefixes reads a list of addresses and CIDR prefixes.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, entry := range r.list(name) {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			a, aerr := netip.ParseAddr(entry)
			if aerr != nil {
				r.fail(name, fmt.Errorf("want an address or CIDR prefix, got %q", entry))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// limit reads a budget written as count/period, e.g. 10/15m.
func (r *reader) limit(name string, def ratelimit.Limit) ratelimit.Limit {
	v := r.get(name)
	if v == "" {
		return def
	}
	count, period, ok := strings.Cut(v, "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	d, derr := time.ParseDuration(strings.TrimSpace(period))
	if !ok || err != nil || derr != nil || n <= 0 || d <= 0 {
		r.fail(name, fmt.Errorf("want count/period such as 10/15m, got %q", v))
		return def
	}
	return ratelimit.Limit{Rate: n, Period: d, Burst: n}
}

func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.get(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

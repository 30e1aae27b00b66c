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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/database"
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
}

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
	if c.Production && len(c.JWTSecret) == 0 {
		r.fail("INKGRAPH_JWT_SECRET", errors.New("is required when INKGRAPH_ENV=production"))
	}
	return c, errors.Join(r.errs...)
}

// EnsureSecrets fills in the secrets embedded mode may generate: each is read from
// DATA_DIR/secrets, or created there with mode 0600 and a warning. Production never
// gets here without them (Load refuses).
func (c *Config) EnsureSecrets(logger *slog.Logger) error {
	if len(c.JWTSecret) > 0 {
		return nil
	}
	secret, err := loadOrCreateSecret(filepath.Join(c.DataDir, "secrets", "jwt.key"), logger)
	if err != nil {
		return err
	}
	c.JWTSecret = secret
	return nil
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

func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.get(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package config

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
		{"INKGRAPH_LLM_TIMEOUT", "", "60s", "longest wait for an LLM's first byte, one wait for all the calls of a chat or playbook run until the model starts answering; then for each next piece of a streamed answer"},
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

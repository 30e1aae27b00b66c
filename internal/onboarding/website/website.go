// Package website owns onboarding's website analysis: fetching the page a user names,
// safely, since the URL is theirs and the fetch runs inside our network, and reading
// writing signals from it (headings, reading level, language, frequent terms, tone,
// brand) plus, when an LLM is configured, a model's reading of the style.
//
// A fetch may only reach public addresses. The address is checked where it is dialled,
// after DNS resolution, so neither a name that resolves to an internal address, nor a
// DNS answer that changes between lookups, nor a redirect gets around the check.
package website

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// Defaults for the zero Config fields.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBytes     = 2 << 20
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "InkgraphBot/1.0 (+website analysis)"
)

// Config tunes fetching and extraction. The zero value is usable.
type Config struct {
	Timeout      time.Duration // whole fetch, redirects and body included; DefaultTimeout when <= 0
	MaxBytes     int64         // largest body read; DefaultMaxBytes when <= 0
	MaxRedirects int           // DefaultMaxRedirects when 0; negative follows none
	// Allow lists ranges that may be fetched although they are private, loopback or
	// link-local: for tests and intranet deployments.
	Allow     []netip.Prefix
	Brand     bool   // extract brand fields (colours, fonts, theme colour, site name, logo)
	UserAgent string // DefaultUserAgent when empty
}

// Completer is the LLM, when one is configured: it answers a JSON object.
type Completer interface {
	CompleteJSON(ctx context.Context, system, prompt string) (text, model string, err error)
}

// Analyzer fetches and analyzes websites. It is safe for concurrent use.
type Analyzer struct {
	cfg    Config
	llm    Completer
	logger *slog.Logger
	client *http.Client
}

// New returns an Analyzer. llm may be nil, and then analyses have no Style; logger may
// be nil to discard the warnings about failed style analyses.
func New(cfg Config, llm Completer, logger *slog.Logger) *Analyzer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	allow := make([]netip.Prefix, 0, len(cfg.Allow))
	for _, p := range cfg.Allow {
		allow = append(allow, p.Masked())
	}
	cfg.Allow = allow
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Analyzer{cfg: cfg, llm: llm, logger: logger}
	a.client = &http.Client{
		// The tracing transport only adds a client span and traceparent around the
		// transport whose dialer checks every address.
		Transport: tracing.Transport(&http.Transport{
			// An environment proxy would dial on our behalf and bypass the address check.
			Proxy:       nil,
			DialContext: a.dial,
			// A custom DialContext turns HTTP/2 off unless asked for.
			ForceAttemptHTTP2:      true,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    cfg.Timeout,
			MaxIdleConns:           16,
			IdleConnTimeout:        30 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}),
		CheckRedirect: a.checkRedirect,
	}
	return a
}

// Analyze fetches rawURL and analyzes the page. Errors are *models.Error: BAD_USER_INPUT
// on field "url" when the address or what it serves cannot be analyzed, and
// UPSTREAM_UNAVAILABLE when the site could not be reached. The result's UserID is left
// for the caller to set.
func (a *Analyzer) Analyze(ctx context.Context, rawURL string) (*models.WebsiteAnalysis, error) {
	u, err := normalizeURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := a.checkURL(u); err != nil {
		return nil, err
	}
	start := time.Now()
	p, err := a.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	analysis, text := extract(p.html, p.url, a.cfg.Brand)
	analysis.URL = u.String()
	analysis.FinalURL = p.url.String()
	analysis.ContentType = p.contentType
	analysis.FetchedBytes = p.size
	analysis.FetchDurationMS = time.Since(start).Milliseconds()
	analysis.AnalyzedAt = time.Now().UTC()
	if a.llm != nil && analysis.WordCount > 0 {
		analysis.Style = a.analyzeStyle(ctx, analysis, text)
	}
	return analysis, nil
}

// normalizeURL turns what a user typed into an absolute http(s) URL: "Example.com"
// becomes "https://example.com/".
func normalizeURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, models.InvalidInput("url", "enter the address of your website, like example.com")
	}
	if !strings.Contains(raw, "://") && !hasScheme(raw) {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, models.InvalidInput("url", "this is not a valid web address: enter something like example.com")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if u.Hostname() == "" {
		return nil, models.InvalidInput("url", "the address has no site name: enter something like example.com")
	}
	u.Host = strings.ToLower(u.Host)
	if u.Path == "" {
		u.Path = "/"
	}
	// The fragment never reaches the server, so it only makes equal addresses differ.
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// hasScheme reports whether raw starts with a scheme ("mailto:", "javascript:") rather
// than a host and port ("example.com:8080/blog").
func hasScheme(raw string) bool {
	i := strings.IndexByte(raw, ':')
	if i <= 0 {
		return false
	}
	for j, c := range raw[:i] {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	rest := raw[i+1:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false // a port
}

// checkScheme refuses what is not plain http(s); it runs on the user's URL and on
// every redirect.
func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return models.InvalidInput("url", "only http:// and https:// addresses can be analyzed")
	}
	if u.User != nil {
		return models.InvalidInput("url", "the address must not contain a user name or password")
	}
	return nil
}

// checkURL refuses a URL whose host is a literal address we would refuse to dial, so
// the refusal does not wait for a connection attempt.
func (a *Analyzer) checkURL(u *url.URL) error {
	if err := checkScheme(u); err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		return models.InvalidInput("url", "the address has no site name: enter something like example.com")
	}
	if addr, err := netip.ParseAddr(host); err == nil && a.refuses(addr) {
		return models.InvalidInput("url", "%s", (&privateAddressError{host: host, addr: addr}).message())
	}
	return nil
}

// redirectError is a redirect the analyzer will not follow. Client.Do wraps what
// CheckRedirect returns in a *url.Error; fetchError unwraps err, the user's message.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return "website: redirect refused: " + e.err.Error() }

func (a *Analyzer) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > a.cfg.MaxRedirects {
		return &redirectError{models.InvalidInput("url", "the site redirected more than %d times", a.cfg.MaxRedirects)}
	}
	if err := a.checkURL(req.URL); err != nil {
		return &redirectError{err}
	}
	return nil
}

// dial connects only to addresses the analyzer accepts. The check is in Control, which
// sees each resolved address just before connecting to it.
func (a *Analyzer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("website: dial %s: %w", address, err)
	}
	d := net.Dialer{
		KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, _, resolved string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(resolved)
			if err != nil {
				return fmt.Errorf("website: unexpected dial address %q: %w", resolved, err)
			}
			if a.refuses(ap.Addr()) {
				return &privateAddressError{host: host, addr: ap.Addr()}
			}
			if a.refusesPort(ap.Addr(), ap.Port()) {
				return &portError{host: host, port: ap.Port()}
			}
			return nil
		},
	}
	return d.DialContext(ctx, network, address)
}

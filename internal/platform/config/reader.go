package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/inkgraph/inkgraph/internal/platform/lazyregexp"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
)

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

// durationOrOff is duration, but "0" is accepted too: the feature is off.
func (r *reader) durationOrOff(name string, def time.Duration) time.Duration {
	if v := r.get(name); v == "0" || v == "0s" {
		return 0
	}
	return r.duration(name, def)
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

// secret reads a key given as text, which must be at least 32 bytes; nil when unset.
func (r *reader) secret(name string) []byte {
	s := r.str(name, "")
	if s == "" {
		return nil
	}
	if len(s) < 32 {
		r.fail(name, errors.New("must be at least 32 bytes"))
	}
	return []byte(s)
}

// httpURL reads an http(s) URL; it may be empty when def is.
func (r *reader) httpURL(name, def string) string {
	v := r.str(name, def)
	if v != "" && !isHTTPURL(v) {
		r.fail(name, fmt.Errorf("want an http(s) URL, got %q", v))
	}
	return v
}

// baseURL reads an http(s) URL that paths are appended to, without its trailing slashes.
func (r *reader) baseURL(name, def string) string {
	v := strings.TrimRight(r.str(name, def), "/")
	if !isHTTPURL(v) {
		r.fail(name, fmt.Errorf("want an http(s) URL, got %q", v))
	}
	return v
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

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// listenAddr checks a listen address's syntax (host:port, a port from 0 to 65535, the
// host empty, an IP address or a host name) without binding it; false when it is bad.
func (r *reader) listenAddr(name, v string) bool {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, fmt.Errorf("want host:port such as :8080 or 127.0.0.1:8080, got %q", v))
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail(name, fmt.Errorf("want a port number from 0 to 65535, got %q in %q", port, v))
		return false
	}
	if host != "" && !isHostName(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			r.fail(name, fmt.Errorf("want an IP address or host name before the port, got %q in %q", host, v))
			return false
		}
	}
	return true
}

// isHostName reports whether s is a syntactically valid DNS name (RFC 1123 labels).
func isHostName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// sameListener reports whether two valid listen addresses would claim the same port
// on a common interface (port 0 always gets a port of its own).
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	return ha == hb || everyInterface(ha) || everyInterface(hb)
}

// everyInterface reports whether a listen address's host listens on every interface
// (empty, 0.0.0.0, ::, or any other spelling of an unspecified address).
func everyInterface(host string) bool {
	ip, err := netip.ParseAddr(host)
	return host == "" || (err == nil && ip.IsUnspecified())
}

// databaseURL reads a database URL: postgres:// or postgresql:// (parsed as pgx would),
// sqlite:PATH or file:PATH (returned as sqlite:PATH), or empty for the embedded file.
// Anything else is refused by its scheme alone, since the rest may hold a password.
func (r *reader) databaseURL(name string) string {
	v := r.get(name)
	switch {
	case v == "", strings.HasPrefix(v, "sqlite:"):
		return v
	case strings.HasPrefix(v, "file:"):
		return "sqlite:" + strings.TrimPrefix(v, "file:")
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := pgx.ParseConfig(v); err != nil {
			msg := withoutURL(err).Error()
			// Whatever the parsers left of the user and password goes too.
			if _, rest, ok := strings.Cut(v, "://"); ok {
				if at := strings.LastIndexByte(rest, '@'); at > 0 {
					msg = strings.ReplaceAll(msg, rest[:at], "…")
				}
			}
			r.fail(name, errors.New("not a usable PostgreSQL URL: "+msg))
		}
		return v
	}
	scheme, _, ok := strings.Cut(v, ":")
	// Only a plausible scheme is quoted back: a key=value connection string's text
	// before its first colon may hold part of a password.
	if !ok || !urlScheme.MatchString(scheme) {
		r.fail(name, errors.New("no scheme: want postgres://… or sqlite:PATH (a file path alone is not taken as SQLite)"))
	} else {
		r.fail(name, fmt.Errorf("unsupported scheme %q: want postgres://… or sqlite:PATH", scheme))
	}
	return v
}

// withoutURL strips the URL out of a parse error (pgx masks the password only on a
// best-effort basis, net/url not at all) and keeps the reason.
func withoutURL(err error) error {
	for {
		var perr *pgconn.ParseConfigError
		var uerr *url.Error
		switch {
		case errors.As(err, &perr) && perr.Unwrap() != nil:
			err = perr.Unwrap()
		case errors.As(err, &uerr):
			err = uerr.Err
		default:
			return err
		}
	}
}

// urlScheme is what RFC 3986 allows a URL scheme to be, kept short.
var urlScheme = lazyregexp.New(`^[A-Za-z][A-Za-z0-9+.-]{0,20}$`)

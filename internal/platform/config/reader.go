package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

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

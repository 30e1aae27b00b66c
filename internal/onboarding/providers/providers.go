// Package providers owns the catalogue of third-party providers whose API keys
// users bring during onboarding: what each provider is, what its keys look like,
// how a key is shown once masked, and how a key is checked live against the
// provider's own API.
//
// Keys are secrets end to end. Nothing here stores or logs a key, a key is only
// ever sent in a request header (never in a URL, which proxies and access logs
// keep), and no error returned by this package contains a key or any part of it.
package providers

import (
	"net/http"
	"strings"
	"sync"
	"unicode"

	"github.com/inkgraph/inkgraph/models"
)

// MaxKeyLength is the longest key, in bytes, CheckFormat accepts. Real keys are
// far shorter (Anthropic's, among the longest, are about 110 characters); the
// limit stops a pasted document from travelling any further.
const MaxKeyLength = 512

// spec is everything the package knows about one provider.
type spec struct {
	models.Provider
	// shapes are the key formats the provider issues; a key must match one.
	shapes []shape
	probe  probe
}

// shape is one key format: a fixed prefix, then between min and max characters
// of one character set (max 0: up to MaxKeyLength).
type shape struct {
	prefix   string
	chars    charset
	min, max int
}

type charset int

const (
	urlSafe    charset = iota // A-Z a-z 0-9 - _
	urlSafeDot                // A-Z a-z 0-9 - _ .
	alnum                     // A-Z a-z 0-9
	alnumDash                 // A-Z a-z 0-9 -
	hexDigits                 // 0-9 a-f A-F
)

func (c charset) allows(r rune) bool {
	digit := r >= '0' && r <= '9'
	letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	switch c {
	case urlSafe:
		return digit || letter || r == '-' || r == '_'
	case urlSafeDot:
		return digit || letter || r == '-' || r == '_' || r == '.'
	case alnum:
		return digit || letter
	case alnumDash:
		return digit || letter || r == '-'
	case hexDigits:
		return digit || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
	}
	return false
}

func (s shape) match(key string) bool {
	rest, ok := strings.CutPrefix(key, s.prefix)
	if !ok || len(rest) < s.min || s.max > 0 && len(rest) > s.max {
		return false
	}
	for _, r := range rest {
		if !s.chars.allows(r) {
			return false
		}
	}
	return true
}

// catalogue is the catalogue, built once: it is read on every key check and every
// summary, and nothing in this package changes it (Registry and Lookup hand out
// copies of its providers).
var catalogue = sync.OnceValue(specs)

// specs builds the catalogue, in the order Registry reports it.
func specs() []spec {
	return []spec{
		{
			Provider: models.Provider{
				ID:          "openai",
				Name:        "OpenAI",
				Kind:        models.ProviderLLM,
				DocsURL:     "https://platform.openai.com/api-keys",
				KeyFormat:   `starts with "sk-" (project keys with "sk-proj-") followed by at least 20 letters, digits, "-" or "_"`,
				KeyExample:  "sk-proj-…abcd",
				Description: "GPT models for drafting, rewriting and chat.",
			},
			// sk-proj-, sk-svcacct- and legacy sk- keys all fit one tolerant shape.
			shapes: []shape{{prefix: "sk-", chars: urlSafe, min: 20}},
			probe: probe{
				base: "https://api.openai.com", method: "GET", path: "/v1/models",
				auth: bearer,
			},
		},
		{
			Provider: models.Provider{
				ID:          "anthropic",
				Name:        "Anthropic",
				Kind:        models.ProviderLLM,
				DocsURL:     "https://platform.claude.com/settings/keys",
				KeyFormat:   `starts with "sk-ant-" followed by at least 20 letters, digits, "-" or "_"`,
				KeyExample:  "sk-ant-…abcd",
				Description: "Claude models for long-form writing and editing.",
			},
			// Today's keys are "sk-ant-api03-" and about 100 more characters;
			// the version segment has changed before, so only "sk-ant-" is fixed.
			shapes: []shape{{prefix: "sk-ant-", chars: urlSafe, min: 20}},
			probe: probe{
				base: "https://api.anthropic.com", method: "GET", path: "/v1/models", query: "limit=1",
				auth: func(h http.Header, key string) {
					h.Set("x-api-key", key)
					h.Set("anthropic-version", "2023-06-01")
				},
			},
		},
		{
			Provider: models.Provider{
				ID:          "gemini",
				Name:        "Google Gemini",
				Kind:        models.ProviderLLM,
				DocsURL:     "https://aistudio.google.com/apikey",
				KeyFormat:   `starts with "AQ." followed by at least 20 letters, digits, ".", "-" or "_"; older keys start with "AIza" followed by exactly 35 letters, digits, "-" or "_"`,
				KeyExample:  "AQ.…abcd",
				Description: "Gemini models from Google AI Studio.",
			},
			shapes: []shape{
				// Authorization keys, the only kind AI Studio has issued since
				// 2026; Google does not document their length.
				{prefix: "AQ.", chars: urlSafeDot, min: 20},
				// Standard Google API keys, still accepted when restricted.
				{prefix: "AIza", chars: urlSafe, min: 35, max: 35},
			},
			probe: probe{
				base: "https://generativelanguage.googleapis.com", method: "GET", path: "/v1beta/models", query: "pageSize=1",
				auth: func(h http.Header, key string) { h.Set("x-goog-api-key", key) },
				// Google answers an unknown or revoked key with 400
				// INVALID_ARGUMENT, reason API_KEY_INVALID, not with 401.
				rejects: googleKeyInvalid,
			},
		},
		{
			Provider: models.Provider{
				ID:          "mistral",
				Name:        "Mistral AI",
				Kind:        models.ProviderLLM,
				DocsURL:     "https://console.mistral.ai/api-keys",
				KeyFormat:   "is 32 letters and digits",
				KeyExample:  "…abcd",
				Description: "Mistral models, hosted in the EU.",
			},
			shapes: []shape{{chars: alnum, min: 32, max: 32}},
			probe: probe{
				base: "https://api.mistral.ai", method: "GET", path: "/v1/models",
				auth: bearer,
			},
		},
		{
			Provider: models.Provider{
				ID:          "tavily",
				Name:        "Tavily",
				Kind:        models.ProviderResearch,
				DocsURL:     "https://app.tavily.com/home",
				KeyFormat:   `starts with "tvly-" (often "tvly-dev-") followed by at least 20 letters, digits, "-" or "_"`,
				KeyExample:  "tvly-dev-…abcd",
				Description: "Web search built for AI research.",
			},
			shapes: []shape{{prefix: "tvly-", chars: urlSafe, min: 20}},
			probe: probe{
				// GET /usage reports the key's usage and costs no credits.
				base: "https://api.tavily.com", method: "GET", path: "/usage",
				auth: bearer,
			},
		},
		{
			Provider: models.Provider{
				ID:          "serper",
				Name:        "Serper",
				Kind:        models.ProviderResearch,
				DocsURL:     "https://serper.dev/api-key",
				KeyFormat:   "is 40 hexadecimal characters (0-9 and a-f)",
				KeyExample:  "…abcd",
				Description: "Google search results through an API.",
			},
			shapes: []shape{{chars: hexDigits, min: 40, max: 40}},
			probe: probe{
				// GET /account returns the credit balance without running a
				// search, so checking a key costs nothing.
				base: "https://google.serper.dev", method: "GET", path: "/account",
				auth: func(h http.Header, key string) { h.Set("X-API-KEY", key) },
			},
		},
		{
			Provider: models.Provider{
				ID:          "exa",
				Name:        "Exa",
				Kind:        models.ProviderResearch,
				DocsURL:     "https://dashboard.exa.ai/api-keys",
				KeyFormat:   `is a UUID (such as 1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d) or at least 32 letters, digits and "-"`,
				KeyExample:  "…abcd",
				Description: "Neural web search and page contents.",
			},
			// A UUID is 36 characters of this set, so one shape covers both.
			shapes: []shape{{chars: alnumDash, min: 32}},
			probe: probe{
				// Exa has no free authenticated read; the smallest search,
				// one result and no page contents, is its cheapest call.
				base: "https://api.exa.ai", method: "POST", path: "/search",
				body: `{"query":"inkgraph","numResults":1}`,
				auth: func(h http.Header, key string) { h.Set("x-api-key", key) },
			},
		},
	}
}

// Registry lists the providers users can bring keys for, in a stable order:
// openai, anthropic, gemini, mistral, tavily, serper, exa.
func Registry() []models.Provider {
	all := catalogue()
	out := make([]models.Provider, len(all))
	for i, s := range all {
		out[i] = s.Provider
	}
	return out
}

// Lookup returns the provider with the id, ignoring case. An unknown id is a
// BAD_USER_INPUT error on the field "provider".
func Lookup(id string) (models.Provider, error) {
	s, err := lookup(id)
	if err != nil {
		return models.Provider{}, err
	}
	return s.Provider, nil
}

func lookup(id string) (spec, error) {
	all := catalogue()
	for _, s := range all {
		if strings.EqualFold(s.ID, id) {
			return s, nil
		}
	}
	ids := make([]string, len(all)) // only for the error: a key's kind is looked up at every read
	for i, s := range all {
		ids[i] = s.ID
	}
	// The id is not repeated back: a user who pasted a key into the wrong
	// field would otherwise see it in an error, and so would the logs.
	return spec{}, models.InvalidInput("provider", "Unknown provider; choose one of %s.", strings.Join(ids, ", "))
}

// CheckFormat reports whether key is well formed for the provider, without
// contacting it. A malformed key is a BAD_USER_INPUT error on the field "key"
// whose message says what the provider's keys look like; it never contains the
// key or any part of it.
//
// Surrounding whitespace is an error rather than something trimmed here: the
// caller should not silently change a secret, and a user who pasted a line
// break should know the key they saved is not the one they copied.
func CheckFormat(provider, key string) error {
	s, err := lookup(provider)
	if err != nil {
		return err
	}
	return s.checkFormat(key)
}

func (s spec) checkFormat(key string) error {
	switch {
	case key == "":
		return models.InvalidInput("key", "Enter your %s API key.", s.Name)
	case len(key) > MaxKeyLength:
		return models.InvalidInput("key", "This is longer than any %s API key (at most %d characters); paste only the key.", s.Name, MaxKeyLength)
	case strings.IndexFunc(key, invisible) >= 0:
		return models.InvalidInput("key", "The key has spaces, line breaks or other invisible characters in it or around it; paste the %s key exactly as shown, without them.", s.Name)
	}
	for _, sh := range s.shapes {
		if sh.match(key) {
			if other := s.belongsElsewhere(key); other != "" {
				return models.InvalidInput("key", "This looks like a %s key, not a %s key: save it under %s.", other, s.Name, other)
			}
			return nil
		}
	}
	return models.InvalidInput("key", "This is not in the format of a %s API key, which %s.", s.Name, s.KeyFormat)
}

// belongsElsewhere names the provider whose more specific prefix the key carries:
// OpenAI's "sk-" shape also matches Anthropic's "sk-ant-" keys, and without live
// checks such a key would otherwise count as a working OpenAI key.
func (s spec) belongsElsewhere(key string) string {
	for _, other := range catalogue() {
		if other.ID == s.ID {
			continue
		}
		for _, sh := range other.shapes {
			for _, own := range s.shapes {
				if len(sh.prefix) > len(own.prefix) && strings.HasPrefix(sh.prefix, own.prefix) && sh.match(key) {
					return other.Name
				}
			}
		}
	}
	return ""
}

// invisible reports whitespace and the other characters a copy and paste picks
// up unseen: zero-width spaces, byte-order marks and control characters.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

const (
	// maskShortBelow is the length under which a key is too short to show
	// four trailing characters.
	maskShortBelow = 12
	// maskMinHidden is how many characters Mask always hides besides a known
	// prefix; with fewer, the prefix is left out too.
	maskMinHidden = 8
)

// Mask returns a form of key that is safe to show and store in clear: a known
// non-secret prefix such as "sk-ant-" or "tvly-", "…", and the last four
// characters, e.g. "sk-ant-…Wx9z". A key shorter than 12 characters shows only
// its last two ("…9z"), one of 5 characters or fewer shows nothing ("…"), and an
// empty key gives "". Mask never reveals more than four trailing characters.
func Mask(key string) string {
	r := []rune(key)
	n := len(r)
	switch {
	case n == 0:
		return ""
	case n <= 5:
		// Two characters of a five-character secret is not masking it.
		return "…"
	case n < maskShortBelow:
		return "…" + string(r[n-2:])
	}
	tail := string(r[n-4:])
	// Prefixes that name a kind of key and carry no secret; longer ones come
	// before the shorter ones they start with.
	prefixes := [...]string{
		"sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-",
		"AIza", "AQ.",
		"tvly-dev-", "tvly-",
	}
	for _, p := range prefixes {
		// Prefixes are ASCII, so their byte length is their rune count.
		if strings.HasPrefix(key, p) && n-len(p)-4 >= maskMinHidden {
			return p + "…" + tail
		}
	}
	return "…" + tail
}

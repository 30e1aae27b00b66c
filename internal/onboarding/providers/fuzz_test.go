package providers_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/models"
)

// FuzzKeyFormatAndMask checks any text pasted as a key, for every provider and for
// the provider id as given:
//   - CheckFormat never panics, refuses with BAD_USER_INPUT on the field "key" (or
//     "provider" for an unknown id), and its message quotes no five characters in a
//     row of the key that its fixed wording does not already hold;
//   - a key it accepts is at most MaxKeyLength bytes and has nothing invisible in it;
//   - Mask shows at most a known non-secret prefix of the key and its last four
//     characters (two below 12 characters, none up to 5), hides at least eight
//     behind a prefix, and always hides at least one.
func FuzzKeyFormatAndMask(f *testing.F) {
	for _, key := range []string{
		"sk-proj-" + sec(40) + "abcd", "sk-" + sec(48), "sk-svcacct-" + sec(40), "sk-ant-api03-" + sec(93),
		"sk-ant-abcdefgh", "AIza" + sec(35), "AQ.Ab" + sec(40), sec(32), "tvly-dev-" + sec(32), "tvly-" + sec(32),
		hex(40), testUUID, testUUID[:32], "", "a", "abcde", "abcdef", "sk-abcdefghi", "ключключключ",
		" sk-" + sec(48) + "\n", "sk-\u200b" + sec(48), strings.Repeat("x", providers.MaxKeyLength+1),
		"\xff\xfe" + sec(20), "Anthropic API key", "sk-…" + sec(20) + "…",
	} {
		f.Add("openai", key)
	}
	f.Add("ANTHROPIC", "sk-ant-api03-"+sec(93))
	f.Add("nope", "sk-"+sec(48))

	ids := []string{}
	for _, p := range providers.Registry() {
		ids = append(ids, p.ID)
	}
	wording := fixedWording(ids)

	f.Fuzz(func(t *testing.T, provider, key string) {
		for _, id := range append(ids[:len(ids):len(ids)], provider) {
			checkFormat(t, id, key, wording)
		}
		checkMask(t, key)
	})
}

func checkFormat(t *testing.T, id, key, wording string) {
	t.Helper()
	err := providers.CheckFormat(id, key)
	if err == nil {
		if len(key) > providers.MaxKeyLength || strings.IndexFunc(key, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
		}) >= 0 {
			t.Fatalf("%s accepted %q", id, key)
		}
		return
	}
	var e *models.Error
	if !errors.As(err, &e) || e.Code != models.CodeBadUserInput || (e.Field != "key" && e.Field != "provider") {
		t.Fatalf("%s: %q refused with %#v, want BAD_USER_INPUT on key or provider", id, key, err)
	}
	const window = 5
	for i := 0; i+window <= len(key); i++ {
		if part := key[i : i+window]; strings.Contains(e.Message, part) && !strings.Contains(wording, part) {
			t.Fatalf("%s: the message %q quotes %q of the key %q", id, e.Message, part, key)
		}
	}
}

// fixedWording is every message CheckFormat gives for keys that carry nothing of
// their own into it, joined: the text a message may hold without leaking.
func fixedWording(ids []string) string {
	probes := []string{
		"", strings.Repeat("a", providers.MaxKeyLength+1), "a b", "!",
		"sk-ant-api03-" + sec(93), "sk-proj-" + sec(40), "AIza" + sec(35), "tvly-dev-" + sec(32),
		hex(40), testUUID,
	}
	var b strings.Builder
	for _, id := range append(ids, "unknown-provider") {
		for _, p := range probes {
			var e *models.Error
			if errors.As(providers.CheckFormat(id, p), &e) {
				b.WriteString(e.Message + "\n")
			}
		}
	}
	return b.String()
}

// maskPrefixes are the prefixes Mask may show: they name a kind of key.
var maskPrefixes = []string{"", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-", "AIza", "AQ.", "tvly-dev-", "tvly-"}

func checkMask(t *testing.T, key string) {
	t.Helper()
	got := providers.Mask(key)
	if key == "" {
		if got != "" {
			t.Fatalf("Mask(%q) = %q, want empty", key, got)
		}
		return
	}
	if !utf8.ValidString(got) {
		t.Fatalf("Mask(%q) = %q is not UTF-8", key, got)
	}
	prefix, tail, found := strings.Cut(got, "…")
	// got may equal the key: "…" masks every key of five characters or fewer, "…" too.
	if !found {
		t.Fatalf("Mask(%q) = %q has no \"…\"", key, got)
	}
	known := false
	for _, p := range maskPrefixes {
		known = known || (p == prefix && strings.HasPrefix(key, p))
	}
	if !known {
		t.Fatalf("Mask(%q) = %q shows %q, which is not a known prefix of the key", key, got, prefix)
	}
	runes, tailRunes := []rune(key), []rune(tail)
	n, shown := len(runes), len(tailRunes)
	limit := 4
	switch {
	case n <= 5:
		limit = 0
	case n < 12:
		limit = 2
	}
	if shown > limit || string(runes[n-shown:]) != tail {
		t.Fatalf("Mask(%q) = %q: the tail %q is not at most %d last characters of the key", key, got, tail, limit)
	}
	if hidden := n - len(prefix) - shown; hidden < 1 || (prefix != "" && hidden < 8) {
		t.Fatalf("Mask(%q) = %q hides only %d characters", key, got, hidden)
	}
}

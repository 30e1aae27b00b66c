package providers_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// Key material for tests: distinctive, so a leak into a message is easy to spot.
const (
	alnumSeed = "Qz7xK9wLmP3vT5rJhN2cY8sB4gD6fR1t"
	hexSeed   = "9f3c7a1e5b2d8046"
	testUUID  = "7d9e2f41-83ac-4b6e-9f12-c5a0d8e3b7f6"
)

// secret is n characters cycling through seed.
func secret(seed string, n int) string {
	return strings.Repeat(seed, n/len(seed)+1)[:n]
}

func sec(n int) string { return secret(alnumSeed, n) }
func hex(n int) string { return secret(hexSeed, n) }

// requireNoLeak fails if text holds key or any five characters in a row of it,
// except runs that are part of the provider's public format description.
func requireNoLeak(t *testing.T, p models.Provider, text, key string) {
	t.Helper()
	if key == "" {
		return
	}
	require.NotContains(t, text, key)
	const window = 5
	for i := 0; i+window <= len(key); i++ {
		part := key[i : i+window]
		if strings.Contains(p.KeyFormat, part) || strings.TrimSpace(part) != part {
			continue
		}
		require.NotContains(t, text, part, "text leaks part of the key")
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	got := providers.Registry()
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
		require.NotEmpty(t, p.Name, p.ID)
		require.Contains(t, []models.ProviderKind{models.ProviderLLM, models.ProviderResearch}, p.Kind, p.ID)
		require.True(t, strings.HasPrefix(p.DocsURL, "https://"), p.ID)
		require.NotEmpty(t, p.KeyFormat, p.ID)
		require.Contains(t, p.KeyExample, "…", p.ID)
		require.NotEmpty(t, p.Description, p.ID)
	}
	require.Equal(t, []string{"openai", "anthropic", "gemini", "mistral", "tavily", "serper", "exa"}, ids)
	for _, p := range got[:4] {
		require.Equal(t, models.ProviderLLM, p.Kind, p.ID)
	}
	for _, p := range got[4:] {
		require.Equal(t, models.ProviderResearch, p.Kind, p.ID)
	}

	got[0].Name = "changed"
	require.Equal(t, "OpenAI", providers.Registry()[0].Name, "Registry must hand out copies")
}

// TestKeyExample pins each example to what Mask makes of a well-formed key
// ending in "abcd", so the examples cannot drift from the real masking.
func TestKeyExample(t *testing.T) {
	t.Parallel()
	keys := map[string]string{
		"openai":    "sk-proj-" + sec(40) + "abcd",
		"anthropic": "sk-ant-api03-" + sec(89) + "abcd",
		"gemini":    "AQ.Ab" + sec(40) + "abcd",
		"mistral":   sec(28) + "abcd",
		"tavily":    "tvly-dev-" + sec(28) + "abcd",
		"serper":    hex(36) + "abcd",
		"exa":       testUUID[:32] + "abcd",
	}
	for _, p := range providers.Registry() {
		key, ok := keys[p.ID]
		require.True(t, ok, p.ID)
		require.NoError(t, providers.CheckFormat(p.ID, key), p.ID)
		require.Equal(t, p.KeyExample, providers.Mask(key), p.ID)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     string
		wantID string // "" for unknown
	}{
		{"openai", "openai"},
		{"OpenAI", "openai"},
		{"ANTHROPIC", "anthropic"},
		{"Gemini", "gemini"},
		{"eXa", "exa"},
		{"", ""},
		{"google", ""},
		{" openai", ""},
		{"sk-proj-" + sec(40), ""},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			p, err := providers.Lookup(tc.id)
			if tc.wantID != "" {
				require.NoError(t, err)
				require.Equal(t, tc.wantID, p.ID)
				return
			}
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "provider")
			require.Equal(t, models.Provider{}, p)
			for _, known := range providers.Registry() {
				require.Contains(t, e.Message, known.ID)
			}
			if len(tc.id) > 8 {
				require.NotContains(t, e.Message, tc.id, "an unknown id is not echoed back")
			}
		})
	}
}

func TestCheckFormat(t *testing.T) {
	t.Parallel()
	const (
		ok       = ""
		empty    = "Enter your"
		spaces   = "spaces"
		tooLong  = "longer"
		badShape = "format"
	)
	type testCase struct {
		name, key, want string
	}
	// Cases every provider shares, built around one well-formed key.
	common := func(good string) []testCase {
		return []testCase{
			{"good", good, ok},
			{"empty", "", empty},
			{"leading space", " " + good, spaces},
			{"trailing newline", good + "\n", spaces},
			{"trailing CRLF", good + "\r\n", spaces},
			{"inner space", good[:len(good)/2] + " " + good[len(good)/2:], spaces},
			{"tab", "\t" + good, spaces},
			{"no-break space", good + "\u00a0", spaces},
			{"only spaces", "   ", spaces},
			{"too long", good + sec(providers.MaxKeyLength), tooLong},
			{"too long with spaces", good + " " + sec(providers.MaxKeyLength), tooLong},
			{"non-ASCII", good[:len(good)-1] + "é", badShape},
			{"zero-width space", good[:4] + "\u200b" + good[4:], spaces},
			{"byte-order mark", "\ufeff" + good, spaces},
			{"NUL", good + "\x00", spaces},
		}
	}
	tests := map[string][]testCase{
		"openai": append(common("sk-proj-"+sec(48)),
			testCase{"legacy key", "sk-" + sec(48), ok},
			testCase{"service account key", "sk-svcacct-" + sec(60), ok},
			testCase{"shortest", "sk-" + sec(20), ok},
			testCase{"longest", "sk-" + sec(providers.MaxKeyLength-3), ok},
			testCase{"too short", "sk-" + sec(19), badShape},
			testCase{"wrong prefix", "pk-" + sec(48), badShape},
			testCase{"no prefix", sec(51), badShape},
			testCase{"bad character", "sk-" + sec(30) + "!" + sec(10), badShape},
		),
		"anthropic": append(common("sk-ant-api03-"+sec(93)+"AA"),
			testCase{"other version", "sk-ant-api04-" + sec(40), ok},
			testCase{"too short", "sk-ant-" + sec(8), badShape},
			testCase{"openai key", "sk-proj-" + sec(48), badShape},
			testCase{"wrong prefix", "sk-anth-" + sec(48), badShape},
			testCase{"bad character", "sk-ant-" + sec(30) + "/" + sec(10), badShape},
		),
		"gemini": append(common("AQ.Ab8RN6"+sec(20)+"."+sec(20)),
			testCase{"standard key", "AIza" + sec(35), ok},
			testCase{"standard key with - and _", "AIzaSy-_" + sec(31), ok},
			testCase{"standard key too short", "AIza" + sec(34), badShape},
			testCase{"standard key too long", "AIza" + sec(36), badShape},
			testCase{"auth key too short", "AQ." + sec(19), badShape},
			testCase{"wrong prefix", "AIzb" + sec(35), badShape},
			testCase{"lower-case prefix", "aiza" + sec(35), badShape},
			testCase{"dot in standard key", "AIza" + sec(30) + "." + sec(4), badShape},
		),
		"mistral": append(common(sec(32)),
			testCase{"too short", sec(31), badShape},
			testCase{"one too many", sec(33), badShape},
			testCase{"dash", sec(16) + "-" + sec(15), badShape},
			testCase{"openai key", "sk-" + sec(29), badShape},
		),
		"tavily": append(common("tvly-dev-"+sec(32)),
			testCase{"legacy key", "tvly-" + sec(32), ok},
			testCase{"dashes in body", "tvly-dev-" + sec(6) + "-" + sec(30), ok},
			testCase{"too short", "tvly-" + sec(19), badShape},
			testCase{"wrong prefix", "tvl-" + sec(32), badShape},
			testCase{"upper-case prefix", "TVLY-" + sec(32), badShape},
		),
		"serper": append(common(hex(40)),
			testCase{"upper-case hex", strings.ToUpper(hex(40)), ok},
			testCase{"too short", hex(39), badShape},
			testCase{"one too many", hex(41), badShape},
			testCase{"not hex", "g" + hex(39), badShape},
			testCase{"alphanumeric", sec(40), badShape},
		),
		"exa": append(common(testUUID),
			testCase{"32 characters", sec(32), ok},
			testCase{"long key", sec(64), ok},
			testCase{"too short", sec(31), badShape},
			testCase{"35 characters", testUUID[:35], ok},
			testCase{"underscore", sec(20) + "_" + sec(20), badShape},
		),
	}
	require.Len(t, tests, len(providers.Registry()), "every provider has a table")

	for _, p := range providers.Registry() {
		for _, tc := range tests[p.ID] {
			t.Run(p.ID+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				err := providers.CheckFormat(p.ID, tc.key)
				if tc.want == ok {
					require.NoError(t, err)
					return
				}
				e := testkit.RequireCode(t, err, models.CodeBadUserInput, "key")
				require.Contains(t, e.Message, tc.want)
				require.Contains(t, e.Message, p.Name)
				if tc.want == badShape {
					require.Contains(t, e.Message, p.KeyFormat, "the message says what the format should be")
				}
				requireNoLeak(t, p, e.Error(), tc.key)
			})
		}
	}

	t.Run("unknown provider", func(t *testing.T) {
		t.Parallel()
		testkit.RequireCode(t, providers.CheckFormat("cohere", sec(40)), models.CodeBadUserInput, "provider")
	})
	t.Run("provider id is case-insensitive", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, providers.CheckFormat("Serper", hex(40)))
	})
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{"empty", "", ""},
		{"one character", "a", "…"},
		{"five characters", "abcde", "…"},
		{"six characters", "abcdef", "…ef"},
		{"eleven characters", "abcdefghijk", "…jk"},
		{"short key with a prefix", "sk-abcdefg", "…fg"},
		{"twelve characters", "abcdefghijkl", "…ijkl"},
		{"openai legacy", "sk-" + sec(44) + "Wx9z", "sk-…Wx9z"},
		{"openai project", "sk-proj-" + sec(44) + "Wx9z", "sk-proj-…Wx9z"},
		{"openai service account", "sk-svcacct-" + sec(44) + "Wx9z", "sk-svcacct-…Wx9z"},
		{"anthropic", "sk-ant-api03-" + sec(91) + "Wx9z", "sk-ant-…Wx9z"},
		{"gemini standard", "AIza" + sec(31) + "Wx9z", "AIza…Wx9z"},
		{"gemini auth", "AQ.Ab" + sec(40) + "Wx9z", "AQ.…Wx9z"},
		{"mistral", sec(28) + "Wx9z", "…Wx9z"},
		{"tavily", "tvly-dev-" + sec(28) + "Wx9z", "tvly-dev-…Wx9z"},
		{"tavily legacy", "tvly-" + sec(28) + "Wx9z", "tvly-…Wx9z"},
		{"serper", hex(36) + "beef", "…beef"},
		{"exa", testUUID, "…b7f6"},
		// Too little would stay hidden behind "sk-ant-", so a shorter
		// prefix is shown; behind "sk-" eight characters remain hidden.
		{"prefix leaves too little hidden", "sk-ant-" + "abcdefgh", "sk-…efgh"},
		{"no prefix leaves enough hidden", "sk-abcdefghi", "…fghi"},
		{"prefixes are case-sensitive", "SK-PROJ-" + sec(40), "…" + sec(40)[36:]},
		{"multi-byte", "ключключключ", "…ключ"},
		{"multi-byte short", "ключ-ключ", "…юч"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := providers.Mask(tc.key)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
			if tc.key == "" {
				return
			}
			// Whatever follows "…" is the key's end, and at most four characters.
			_, tail, found := strings.Cut(got, "…")
			require.True(t, found)
			require.LessOrEqual(t, utf8.RuneCountInString(tail), 4)
			require.True(t, strings.HasSuffix(tc.key, tail))
			require.NotEqual(t, tc.key, got)
		})
	}
}

func TestAnAnthropicKeyIsNotAnOpenAIKey(t *testing.T) {
	t.Parallel()
	key := "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
	err := providers.CheckFormat("openai", key)
	require.Error(t, err)
	require.Contains(t, err.Error(), "Anthropic")
	require.NotContains(t, err.Error(), key[8:])
	require.NoError(t, providers.CheckFormat("anthropic", key))
	require.NoError(t, providers.CheckFormat("openai", "sk-proj-abcdefghijklmnopqrstuvwxyz"))
}

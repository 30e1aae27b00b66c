package api_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestRegisterAndLoginOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	a.register(t, "taken@example.com")

	for _, tc := range []struct {
		name, email, password, code, field string
	}{
		{"empty email", "", "password1", "BAD_USER_INPUT", "email"},
		{"malformed email", "ann@", "password1", "BAD_USER_INPUT", "email"},
		{"email without domain dot", "ann@localhost", "password1", "BAD_USER_INPUT", "email"},
		{"short password", "ann@example.com", "short", "BAD_USER_INPUT", "password"},
		{"73-byte password", "ann@example.com", strings.Repeat("x", 73), "BAD_USER_INPUT", "password"},
		// A taken email is answered as login answers bad credentials (issue 12, item 8).
		{"duplicate registration", "TAKEN@example.com", "password2", "UNAUTHENTICATED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users := countRows(t, a.db, "users")
			data, errs := a.do(t, "", registerMutation, map[string]any{"email": tc.email, "password": tc.password})
			require.Nil(t, data)
			require.Len(t, errs, 1)
			require.Equal(t, tc.code, errs[0].Extensions["code"])
			if tc.field != "" {
				require.Equal(t, tc.field, errs[0].Extensions["field"])
			} else {
				require.NotContains(t, errs[0].Extensions, "field")
			}
			require.Equal(t, []any{"register"}, errs[0].Path)
			require.Equal(t, users, countRows(t, a.db, "users"), "a refused registration stores nothing")
		})
	}

	login := `mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { accessToken user { email } } }`
	_, wrongPassword := a.do(t, "", login, map[string]any{"email": "taken@example.com", "password": "password2"})
	_, wrongEmail := a.do(t, "", login, map[string]any{"email": "nobody@example.com", "password": "password1"})
	require.Len(t, wrongPassword, 1)
	require.Equal(t, "UNAUTHENTICATED", wrongPassword[0].Extensions["code"])
	require.Equal(t, wrongPassword[0], wrongEmail[0], "wrong email and wrong password look the same")
	_, takenEmail := a.do(t, "", registerMutation, map[string]any{"email": "taken@example.com", "password": "password2"})
	require.Len(t, takenEmail, 1)
	require.Equal(t, wrongEmail[0].Message, takenEmail[0].Message, "registering a taken email looks like a failed login")
	require.Equal(t, wrongEmail[0].Extensions, takenEmail[0].Extensions)

	data, errs := a.do(t, "", login, map[string]any{"email": "Taken@Example.com", "password": "password1"})
	require.Empty(t, errs)
	require.Equal(t, "taken@example.com", data["login"].(map[string]any)["user"].(map[string]any)["email"])

	_, errs = a.do(t, "", `mutation { register(input: {email: "x@example.com"}) { accessToken } }`, nil)
	require.Len(t, errs, 1)
	require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"], "a missing input field is a validation error")
}

func TestMeWithBadTokens(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	access, _, userID := a.register(t, "me@example.com")

	data, errs := a.do(t, access, `{ me { id email tier createdAt } }`, nil)
	require.Empty(t, errs)
	me := data["me"].(map[string]any)
	require.Equal(t, userID, me["id"])
	require.Equal(t, "FREE", me["tier"])

	now := time.Now()
	tokensAt := func(at time.Time, secret []byte, audience string) *auth.Tokens {
		return auth.NewTokens(auth.TokenConfig{Secret: secret, Issuer: a.cfg.JWTIssuer, Audience: audience, TTL: 15 * time.Minute}, func() time.Time { return at })
	}
	expired, _, err := tokensAt(now.Add(-time.Hour), testSecret, a.cfg.JWTAudience).Issue(userID, "s1")
	require.NoError(t, err)
	wrongAudience, _, err := tokensAt(now, testSecret, "someone-else").Issue(userID, "s1")
	require.NoError(t, err)
	otherKey, _, err := tokensAt(now, []byte("another-key-another-key-another-key!"), a.cfg.JWTAudience).Issue(userID, "s1")
	require.NoError(t, err)
	parts := strings.Split(access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(userID), []byte("someone-else"), 1)) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, jwt.MapClaims{"sub": userID, "exp": now.Add(time.Hour).Unix()}).SignedString(testSecret)
	require.NoError(t, err)

	for _, tc := range []struct{ name, token, message string }{
		{"no token", "", "sign in"},
		{"expired", expired, "expired"},
		{"tampered", tampered, "invalid access token"},
		{"alg none", none, "invalid access token"},
		{"wrong audience", wrongAudience, "invalid access token"},
		{"other key", otherKey, "invalid access token"},
		{"other algorithm", hs384, "invalid access token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, errs := a.do(t, tc.token, `{ me { id } }`, nil)
			require.Nil(t, data)
			require.Len(t, errs, 1)
			require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])
			require.Contains(t, errs[0].Message, tc.message)
		})
	}

	t.Run("a bad token does not stop public operations", func(t *testing.T) {
		data, errs := a.do(t, expired, `{ plans { tier } }`, nil)
		require.Empty(t, errs)
		require.Len(t, data["plans"], 4)
	})
}

func TestRefreshAndLogoutOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	_, refresh, _ := a.register(t, "ref@example.com")

	refreshOp := `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken expiresAt user { email } } }`
	data, errs := a.do(t, "", refreshOp, map[string]any{"t": refresh})
	require.Empty(t, errs)
	next := data["refreshToken"].(map[string]any)
	require.NotEqual(t, refresh, next["refreshToken"])

	_, errs = a.do(t, "", refreshOp, map[string]any{"t": "igr_forged"})
	require.Len(t, errs, 1)
	require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"])
	_, errs = a.do(t, "", refreshOp, map[string]any{"t": ""})
	require.Len(t, errs, 1)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
	require.Equal(t, "refreshToken", errs[0].Extensions["field"])

	logout := `mutation($t: String!) { logout(refreshToken: $t) { sessionId revokedAt } }`
	data, errs = a.do(t, "", logout, map[string]any{"t": next["refreshToken"]})
	require.Empty(t, errs)
	require.NotEmpty(t, data["logout"].(map[string]any)["sessionId"])
	_, errs = a.do(t, "", refreshOp, map[string]any{"t": next["refreshToken"]})
	require.Len(t, errs, 1)
	require.Equal(t, "UNAUTHENTICATED", errs[0].Extensions["code"], "a signed-out session cannot refresh")
}

func TestReusedRefreshTokenOverGraphQL(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	_, first, _ := a.register(t, "reuse@example.com")
	refreshOp := `mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }`
	data, errs := a.do(t, "", refreshOp, map[string]any{"t": first})
	require.Empty(t, errs)
	second := data["refreshToken"].(map[string]any)["refreshToken"]

	// Within the grace a second use is taken for a concurrent refresh: refused, kept.
	_, errs = a.do(t, "", refreshOp, map[string]any{"t": first})
	require.Len(t, errs, 1)
	require.Equal(t, "CONFLICT", errs[0].Extensions["code"])
	_, errs = a.do(t, "", refreshOp, map[string]any{"t": second})
	require.Empty(t, errs, "a concurrent-looking reuse does not end the session")
}

func TestPlans(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite)
	data, errs := a.do(t, "", `{ plans { tier agents batch providers backupBytes byok sso requestsPerMinute perSeat monthlyTokens } }`, nil)
	require.Empty(t, errs)
	plans := data["plans"].([]any)
	require.Len(t, plans, 4)
	byTier := map[string]map[string]any{}
	for _, p := range plans {
		m := p.(map[string]any)
		byTier[m["tier"].(string)] = m
	}
	require.EqualValues(t, 3, byTier["FREE"]["agents"])
	require.EqualValues(t, 0, byTier["FREE"]["backupBytes"])
	require.Nil(t, byTier["PRO"]["agents"], "unlimited is null")
	require.EqualValues(t, int64(5)<<30, byTier["PRO"]["backupBytes"])
	require.EqualValues(t, int64(50)<<30, byTier["POWER"]["backupBytes"], "beyond 32 bits")
	require.Nil(t, byTier["TEAM"]["backupBytes"])
	require.Equal(t, true, byTier["POWER"]["byok"])
	require.Equal(t, true, byTier["TEAM"]["sso"])
	require.EqualValues(t, 100_000, byTier["FREE"]["monthlyTokens"])
	require.EqualValues(t, 10_000_000, byTier["POWER"]["monthlyTokens"])
	require.Nil(t, byTier["TEAM"]["monthlyTokens"], "unlimited is null")
	for tier, rpm := range map[string]float64{"FREE": 20, "PRO": 60, "POWER": 120, "TEAM": 200} {
		require.EqualValues(t, rpm, byTier[tier]["requestsPerMinute"])
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, func(c *config.Config) {
		c.MaxQueryDepth = 2
		c.MaxQueryComplexity = 20
		c.MaxBodyBytes = 2048
	})

	t.Run("depth", func(t *testing.T) {
		_, errs := a.do(t, "", `{ plans { tier } }`, nil)
		require.Empty(t, errs)
		_, errs = a.do(t, "", `mutation { login(input: {email: "a@b.co", password: "x"}) { user { id } } }`, nil)
		require.Len(t, errs, 1)
		require.Equal(t, "DEPTH_LIMIT_EXCEEDED", errs[0].Extensions["code"])
		_, errs = a.do(t, "", `mutation { login(input: {email: "a@b.co", password: "x"}) { ...U } } fragment U on AuthPayload { user { id } }`, nil)
		require.Len(t, errs, 1, "fragments count too")
		require.Equal(t, "DEPTH_LIMIT_EXCEEDED", errs[0].Extensions["code"])
	})

	t.Run("complexity: list fields cost their size", func(t *testing.T) {
		_, errs := a.do(t, "", `{ plans { tier } }`, nil)
		require.Empty(t, errs, "4 plans x 2")
		_, errs = a.do(t, "", `{ plans { tier agents batch providers backupBytes byok } }`, nil)
		require.Len(t, errs, 1, "4 plans x 7 > 20")
		require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", errs[0].Extensions["code"])
	})

	t.Run("complexity: a cost remembered per document, computed with variables", func(t *testing.T) {
		for range 2 {
			_, errs := a.do(t, "", `{ plans { tier agents batch providers backupBytes byok } }`, nil)
			require.Len(t, errs, 1, "the same document, the same refusal from the remembered cost")
			require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", errs[0].Extensions["code"])
		}
		const page = `query($n: Int) { backups(first: $n) { __typename } }`
		for _, tc := range []struct {
			n    int
			code string
		}{{50, "COMPLEXITY_LIMIT_EXCEEDED"}, {1, "UNAUTHENTICATED"}, {50, "COMPLEXITY_LIMIT_EXCEEDED"}} {
			_, errs := a.do(t, "", page, map[string]any{"n": tc.n})
			require.Len(t, errs, 1)
			require.Equal(t, tc.code, errs[0].Extensions["code"], "first: %d", tc.n)
		}
	})

	t.Run("body size", func(t *testing.T) {
		body := `{"query":"{ plans { tier } }","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`
		for _, chunked := range []bool{false, true} {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "chunked=%v: %s", chunked, rec.Body)
			require.Contains(t, rec.Body.String(), "PAYLOAD_TOO_LARGE")
		}
	})
}

func TestProductionHidesTheSchema(t *testing.T) {
	t.Parallel()
	dev := newApp(t, testkit.SQLite)
	logs := &testkit.SyncBuffer{}
	prod := startAppWith(t, testkit.DatabaseURL(t, testkit.SQLite), wiring{logger: logging.New(logs, slog.LevelInfo)},
		func(c *config.Config) { c.Production = true })

	_, errs := dev.do(t, "", `{ __schema { queryType { name } } }`, nil)
	require.Empty(t, errs)

	t.Run("introspection is refused as a validation error, not logged as one", func(t *testing.T) {
		for _, q := range []string{
			`{ __schema { queryType { name } } }`,
			`{ __type(name: "User") { name } }`,
			`{ plans { tier } ...F } fragment F on Query { s: __schema { types { name } } }`,
			`{ plans { ... on Plan { __typename } } __type(name: "Plan") { fields { name } } }`,
		} {
			for _, accept := range []string{"application/graphql-response+json", "application/json"} {
				r := post(t, prod, accept, q)
				require.Len(t, r.errors, 1, q)
				require.Equal(t, models.CodeIntrospectionDisabled, r.errors[0].Extensions["code"], q)
				require.False(t, r.hasData, "nothing ran")
				require.Equal(t, post(t, prod, accept, `{ nope }`).status, r.status, "the status of a validation error")
			}
		}
		_, errs := prod.do(t, "", `{ plans { __typename tier } }`, nil)
		require.Empty(t, errs, "__typename is no introspection")
		require.NotContains(t, logs.String(), `"level":"ERROR"`)
	})

	for _, tc := range []struct{ name, query, dev string }{
		{"field", `{ plan { tier } }`, `Did you mean "plans"?`},
		{"argument", `{ usage(day: 3) { monthTokens } }`, `Did you mean "days"?`},
		{"enum value", `mutation { createCheckoutSession(tier: PR) { url } }`, `Did you mean the enum value "PRO"?`},
		{"input field", `mutation { login(input: {emial: "a@b.co", password: "x"}) { accessToken } }`, `Did you mean "email"?`},
		{"type", `{ ...F } fragment F on Quer { __typename }`, `Did you mean "Query"`},
		{"leaf", `{ me }`, `Did you mean "me {`},
	} {
		t.Run("no suggestion: "+tc.name, func(t *testing.T) {
			_, errs := dev.do(t, "", tc.query, nil)
			require.NotEmpty(t, errs)
			require.Contains(t, messages(errs), tc.dev, "development suggests")
			_, errs = prod.do(t, "", tc.query, nil)
			require.NotEmpty(t, errs)
			require.NotContains(t, messages(errs), "Did you mean", "production does not")
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"])
		})
	}
}

// messages joins the messages of errs.
func messages(errs []gqlError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Message + "\n")
	}
	return b.String()
}

func TestGETRunsQueriesOnly(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite))
	resp, err := http.Get(ts.URL + "/graphql?query=" + url.QueryEscape(`{ plans { tier } }`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(ts.URL + "/graphql?query=" + url.QueryEscape(`mutation { logout(refreshToken: "x") { sessionId } }`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "POST", resp.Header.Get("Allow"))
}

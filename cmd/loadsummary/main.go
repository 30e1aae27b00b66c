// Command loadsummary load-tests the onboarding summary of a running Inkgraph server
// over real HTTP. It registers a fresh user, walks it through onboarding with the
// same GraphQL mutations the wizard sends (startOnboarding, saveProviderKey openai,
// completeStep 1, analyzeWebsite, completeStep 2, saveResearchPreferences,
// completeStep 3, then generatePersona N times), and then sends the summary query
// from -c workers for -d. It prints requests, errors (by kind), req/s and the
// latency percentiles.
//
//	loadsummary [-url http://127.0.0.1:8080/graphql] [-c 8] [-d 10s] [-site URL] [-personas 5]
//
// Without -site it serves a small marketing page on 127.0.0.1 itself, which the
// server refuses to fetch unless told that loopback is allowed. On SQLite (the
// embedded default):
//
//	INKGRAPH_DATA_DIR=$(mktemp -d) INKGRAPH_ADDR=127.0.0.1:8080 \
//	INKGRAPH_FETCH_ALLOW=127.0.0.1/32 INKGRAPH_BCRYPT_COST=4 go run ./cmd/inkgraph
//	go run ./cmd/loadsummary
//
// On PostgreSQL, on a database of its own (migrations are not applied automatically
// there, and the secrets instances share must be given):
//
//	createdb -h 127.0.0.1 -U postgres inkgraph_load
//	export DATABASE_URL='postgres://postgres@127.0.0.1:5432/inkgraph_load?sslmode=disable'
//	export INKGRAPH_JWT_SECRET=$(openssl rand -hex 32) INKGRAPH_BACKUP_SIGNING_KEY=$(openssl rand -hex 32)
//	export INKGRAPH_KEYRING=1:$(openssl rand -base64 32)
//	go run ./cmd/inkgraph migrate up
//	INKGRAPH_DATA_DIR=$(mktemp -d) INKGRAPH_ADDR=127.0.0.1:8080 \
//	INKGRAPH_FETCH_ALLOW=127.0.0.1/32 INKGRAPH_BCRYPT_COST=4 go run ./cmd/inkgraph
//	go run ./cmd/loadsummary
//	dropdb -h 127.0.0.1 -U postgres inkgraph_load
//
// The access token lasts INKGRAPH_ACCESS_TOKEN_TTL (15m by default): a longer -d
// ends in UNAUTHENTICATED errors. The user is on the free tier; when the server
// limits requests by tier, the limited ones are counted as RATE_LIMITED errors.
// The load runs on the same machine as the server: on a small one the client's CPU
// is part of what is measured.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadsummary:", err)
		os.Exit(1)
	}
}

// options are the command line's settings.
type options struct {
	url         string
	concurrency int
	duration    time.Duration
	site        string
	personas    int
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadsummary", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint of the running server")
	fs.IntVar(&o.concurrency, "c", 8, "concurrent workers sending the summary query")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "how long to send it")
	fs.StringVar(&o.site, "site", "", "website to analyze in onboarding; empty serves a page on 127.0.0.1 (the server needs INKGRAPH_FETCH_ALLOW=127.0.0.1/32)")
	fs.IntVar(&o.personas, "personas", 5, "personas to generate before the load")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.concurrency < 1 || o.duration <= 0 || o.personas < 0 {
		return o, errors.New("-c must be at least 1, -d positive and -personas not negative")
	}
	return o, nil
}

// run is the whole program, with its surroundings passed in.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// One idle connection per worker: the load measures requests, not TCP handshakes.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = o.concurrency
	transport.MaxIdleConns = o.concurrency
	c := &client{http: &http.Client{Transport: transport, Timeout: 30 * time.Second}, url: o.url}
	defer transport.CloseIdleConnections()

	if o.site == "" {
		page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, sitePage)
		}))
		defer page.Close()
		o.site = page.URL + "/"
	}

	start := time.Now()
	email, err := onboard(ctx, c, o.site, o.personas)
	if err != nil {
		return err
	}
	summary, err := json.Marshal(map[string]string{"query": summaryQuery})
	if err != nil {
		return err
	}
	first, err := c.post(ctx, summary)
	if err != nil {
		return fmt.Errorf("first summary: %w", err)
	}
	fmt.Fprintf(stdout, "setup: %s onboarded with %d personas (site %s) in %s; summary is %d bytes\n",
		email, o.personas, o.site, time.Since(start).Round(time.Millisecond), len(first))
	fmt.Fprintf(stdout, "load: %d workers for %s against %s\n", o.concurrency, o.duration, o.url)

	r := hammer(ctx, c, summary, o.concurrency, o.duration)
	r.print(stdout)
	return ctx.Err()
}

// --- GraphQL over HTTP ---

// client sends GraphQL operations as the signed-in user.
type client struct {
	http  *http.Client
	url   string
	token string
}

// gqlError is one error of a response, as a client reads it.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// requestError is a request that did not return data: its kind is the GraphQL
// error code, an HTTP status or "transport", for counting.
type requestError struct {
	kind string
	msg  string
}

func (e *requestError) Error() string { return e.kind + ": " + e.msg }

// post sends one request body and returns the response body; a non-200 status or a
// response with errors is a *requestError.
func (c *client) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &requestError{kind: "transport", msg: err.Error()}
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &requestError{kind: "transport", msg: err.Error()}
	}
	// Checking for the key first keeps the common case free of a second JSON parse.
	if resp.StatusCode == http.StatusOK && !bytes.Contains(out, []byte(`"errors"`)) {
		return out, nil
	}
	var parsed struct {
		Errors []gqlError `json:"errors"`
	}
	if json.Unmarshal(out, &parsed) == nil && len(parsed.Errors) > 0 {
		e := parsed.Errors[0]
		kind := e.Extensions.Code
		if kind == "" {
			kind = "GRAPHQL"
		}
		return nil, &requestError{kind: kind, msg: e.Message}
	}
	return nil, &requestError{kind: fmt.Sprintf("HTTP %d", resp.StatusCode), msg: string(out[:min(len(out), 200)])}
}

// do runs one operation and decodes its data into out (when not nil).
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(resp, &env); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return json.Unmarshal(env.Data, out)
}

// --- setup ---

const openAIKey = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"

// onboard registers a new user, signs c in as that user and walks the wizard up to
// the summary; it returns the user's email.
func onboard(ctx context.Context, c *client, siteURL string, personas int) (string, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	email := "load-" + hex.EncodeToString(b) + "@example.com"
	var reg struct {
		Register struct {
			AccessToken string `json:"accessToken"`
		} `json:"register"`
	}
	if err := c.do(ctx, `mutation($email: String!, $password: String!) {
		register(input: {email: $email, password: $password}) { accessToken }
	}`, map[string]any{"email": email, "password": "load-password-1"}, &reg); err != nil {
		return "", fmt.Errorf("register: %w", err)
	}
	c.token = reg.Register.AccessToken

	steps := []struct {
		query string
		vars  map[string]any
	}{
		{`mutation { startOnboarding { currentStep } }`, nil},
		{`mutation($k: String!) { saveProviderKey(provider: "openai", key: $k) { masked status } }`, map[string]any{"k": openAIKey}},
		{`mutation { completeStep(step: 1) { currentStep } }`, nil},
		{`mutation($u: String!) { analyzeWebsite(url: $u) { title wordCount } }`, map[string]any{"u": siteURL}},
		{`mutation { completeStep(step: 2) { currentStep } }`, nil},
		{`mutation { saveResearchPreferences(input: {depth: COMPREHENSIVE, contentTypes: [BLOG_POST, SOCIAL_POST], targetAudience: "founders of small SaaS companies", writingTone: FRIENDLY}) { depth } }`, nil},
		{`mutation { completeStep(step: 3) { currentStep } }`, nil},
	}
	for range personas {
		steps = append(steps, struct {
			query string
			vars  map[string]any
		}{`mutation { generatePersona { version } }`, nil})
	}
	for _, s := range steps {
		if err := c.do(ctx, s.query, s.vars, nil); err != nil {
			return "", fmt.Errorf("%s: %w", strings.Join(strings.Fields(s.query), " "), err)
		}
	}
	return email, nil
}

// --- load ---

// result is what the workers measured.
type result struct {
	took    []time.Duration // successful requests' latencies
	errors  map[string]int  // failed requests by kind
	sample  map[string]string
	elapsed time.Duration
}

// hammer sends body from n workers until d has passed; requests in flight then
// finish and count.
func hammer(ctx context.Context, c *client, body []byte, n int, d time.Duration) *result {
	r := &result{errors: map[string]int{}, sample: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range n {
		wg.Go(func() {
			var took []time.Duration
			errs := map[string]int{}
			sample := map[string]string{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				_, err := c.post(ctx, body)
				if err != nil {
					kind := "other"
					var re *requestError
					if errors.As(err, &re) {
						kind = re.kind
					}
					errs[kind]++
					sample[kind] = err.Error()
					continue
				}
				took = append(took, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			r.took = append(r.took, took...)
			for k, v := range errs {
				r.errors[k] += v
				r.sample[k] = sample[k]
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	slices.Sort(r.took)
	return r
}

func (r *result) print(w io.Writer) {
	failed := 0
	for _, v := range r.errors {
		failed += v
	}
	total := len(r.took) + failed
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "requests\t%d\n", total)
	fmt.Fprintf(tw, "errors\t%d\n", failed)
	kinds := make([]string, 0, len(r.errors))
	for k := range r.errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(tw, "  %s\t%d\t(e.g. %s)\n", k, r.errors[k], r.sample[k])
	}
	fmt.Fprintf(tw, "req/s\t%.1f\t(successful: %.1f)\n", float64(total)/r.elapsed.Seconds(), float64(len(r.took))/r.elapsed.Seconds())
	if len(r.took) > 0 {
		at := func(q float64) time.Duration { return r.took[int(q*float64(len(r.took)-1))] }
		fmt.Fprintf(tw, "latency\tp50 %s\tp90 %s\tp99 %s\tmax %s\n",
			round(at(0.50)), round(at(0.90)), round(at(0.99)), round(r.took[len(r.took)-1]))
	}
	_ = tw.Flush()
}

func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

// summaryQuery is the wizard's final step: everything the user entered, in one
// request (the same selection as the server's own summary tests).
const summaryQuery = `query {
  onboarding {
    progress { currentStep percentage completed startedAt completedAt steps { step key title required status startedAt completedAt skippedAt } }
    resume { step reason completed missingSteps }
    providerKeys { provider kind masked formatValid status validated lastVerifiedAt lastError keyVersion createdAt updatedAt }
    hasValidatedKey
    websiteAnalysis { url finalUrl title description headings { level text } wordCount readingLevel { fleschReadingEase gradeLevel label }
      language topTerms { term count } tone { formality labels callToActionPhrases avgSentenceLength } style { tone } brand { colors } }
    businessInfo { id businessName description }
    researchPreferences { depth contentTypes autoResearch factualContent targetAudience writingTone language }
    integrations { kind status }
    activePersona { id version active source core { name archetype summary tone voice audience keyTopics } platformPersonas { platform maxLength hashtags } quality { overall notes } }
    personas { id version active }
    personaReadiness { ready missing sources }
    personalization { businessName industry targetAudience writingTone keyTopics platforms personaId defaulted }
    plan { tier providers requestsPerMinute }
  }
}`

// sitePage is a small but real marketing page, enough for website analysis to
// measure and for persona generation to be ready.
const sitePage = `<!doctype html><html lang="en"><head><title>Acme Analytics</title>
<meta name="description" content="Analytics for small teams that want answers, not dashboards.">
</head><body><h1>Answers, not dashboards</h1>
<p>We help small teams understand their customers. Our analytics platform turns raw events into plain answers you can act on today.
You connect your data in minutes, and we do the heavy lifting. No consultants, no six-month projects, no surprises on your invoice.</p>
<h2>Why teams choose us</h2>
<p>Analytics should be simple. Our customers tell us they finally understand which campaigns work and which features matter.
We built the product we wanted to use ourselves: fast, honest and friendly. Try it free for thirty days and see your first report within an hour.</p>
<h2>Get started</h2><p>Sign up today. Book a demo if you have questions about analytics for your team, your customers or your product.</p>
</body></html>`

package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// DefaultTimeout bounds a verification whose context has no deadline, so a
// provider that accepts the connection and never answers cannot hold a request.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes is how much of a provider's answer Verify reads. Only the
// status matters (and, for Google, a short error body); the rest is dropped.
const maxResponseBytes = 64 << 10

// probe is the one cheap authenticated read Verify makes against a provider.
type probe struct {
	base   string // scheme and host; a base URL override replaces it
	method string
	path   string // appended to the base URL's path
	query  string // never holds the key
	body   string // JSON, for POST
	auth   func(h http.Header, key string)
	// rejects reports a refusal of the key that is not a 401 or 403.
	rejects func(status int, body []byte) bool
}

func bearer(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) }

// googleKeyInvalid recognises Google's answer to a key it does not know:
// 400 INVALID_ARGUMENT with an ErrorInfo whose reason is API_KEY_INVALID.
func googleKeyInvalid(status int, body []byte) bool {
	if status != http.StatusBadRequest {
		return false
	}
	var answer struct {
		Error struct {
			Details []struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return false
	}
	for _, d := range answer.Error.Details {
		if d.Reason == "API_KEY_INVALID" {
			return true
		}
	}
	return false
}

// Verifier checks keys live against the providers' APIs. Make one with
// NewVerifier; it is safe for concurrent use.
type Verifier struct {
	client  *http.Client
	bases   map[string]baseURL // by provider id, from the overrides
	timeout time.Duration
}

type baseURL struct {
	u   *url.URL
	err error
}

// NewVerifier returns a Verifier that sends its requests with client (a plain
// client when nil). baseURLs maps a provider id to a URL that replaces the
// scheme, host and path prefix of the provider's API, e.g. for an egress proxy
// or a local fake in tests; the provider's own path is appended to it. An
// override that is not an absolute http or https URL without query, fragment or
// credentials makes Verify fail with INTERNAL for that provider. Entries for
// unknown providers are ignored.
//
// The Verifier uses its own copy of client that never follows redirects: Go
// forwards custom headers such as x-api-key to a redirect's target, even on
// another host, and a key must go only to its provider.
func NewVerifier(client *http.Client, baseURLs map[string]string) *Verifier {
	c := &http.Client{}
	if client != nil {
		copied := *client
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// A client span per check, with traceparent: never the key, which travels in a
	// header the span does not record.
	c.Transport = tracing.Transport(c.Transport)

	bases := make(map[string]baseURL, len(baseURLs))
	for id, raw := range baseURLs {
		u, err := parseBaseURL(raw)
		bases[strings.ToLower(id)] = baseURL{u: u, err: err}
	}
	return &Verifier{client: c, bases: bases, timeout: DefaultTimeout}
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		// url.Parse's error repeats the input, which may hold credentials.
		return nil, errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("scheme is not http or https")
	case u.Host == "":
		return nil, errors.New("no host")
	case u.User != nil:
		return nil, errors.New("credentials in the URL")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("query or fragment in the URL")
	}
	return u, nil
}

// Verify checks key against the provider's API with one cheap authenticated
// read. It returns nil when the provider accepts the key, including when it
// answers 429: the provider has authenticated the key to apply a rate or quota
// limit to it, so the key is genuine even though this call was refused.
//
// Otherwise the error is a *models.Error:
//   - BAD_USER_INPUT on "provider" for an unknown provider;
//   - BAD_USER_INPUT on "key" for a malformed key (as CheckFormat; nothing is
//     sent), or for a key the provider refused (401, 403, or Google's 400
//     API_KEY_INVALID);
//   - UPSTREAM_UNAVAILABLE on "key" when the provider could not say: a network
//     error, a timeout, any other status, or an answer that could not be read.
//     Err holds the cause; it never contains the key or the provider's body.
//   - INTERNAL when the provider's base URL override is invalid.
//
// Without a deadline on ctx, Verify gives up after DefaultTimeout.
func (v *Verifier) Verify(ctx context.Context, provider, key string) error {
	s, err := lookup(provider)
	if err != nil {
		return err
	}
	// A malformed key is not worth a round trip, and checking first means a
	// key with a line break can never reach a header.
	if err := s.checkFormat(key); err != nil {
		return err
	}
	endpoint, err := v.endpoint(s)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}

	var body io.Reader
	if s.probe.body != "" {
		body = strings.NewReader(s.probe.body)
	}
	req, err := http.NewRequestWithContext(ctx, s.probe.method, endpoint.String(), body)
	if err != nil {
		return models.Internal(err, "building the %s verification request", s.Name)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	s.probe.auth(req.Header, key)

	resp, err := v.client.Do(req)
	if err != nil {
		return s.unavailable(err, "could not be reached")
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return s.unavailable(fmt.Errorf("%s %s: reading the %s answer: %w", req.Method, endpoint.Redacted(), resp.Status, err), "sent an answer that could not be read")
	}

	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusTooManyRequests:
		// Rate and quota limits are applied to an authenticated key, so a
		// 429 means the key is genuine; this call was merely refused.
		return nil
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		s.probe.rejects != nil && s.probe.rejects(status, answer):
		return models.InvalidInput("key", "%s rejected this key (%d %s)", s.Name, status, http.StatusText(status))
	}
	// The provider's body is left out of the cause: some echo the key back.
	cause := fmt.Errorf("%s %s: unexpected status %s", req.Method, endpoint.Redacted(), resp.Status)
	return s.unavailable(cause, fmt.Sprintf("answered %d %s", status, http.StatusText(status)))
}

// endpoint is the probe's URL, on the override base URL when there is one.
func (v *Verifier) endpoint(s spec) (*url.URL, error) {
	var u url.URL
	if b, ok := v.bases[s.ID]; ok {
		if b.err != nil {
			return nil, models.Internal(b.err, "the base URL configured for %s is invalid", s.Name)
		}
		u = *b.u
	} else {
		def, err := url.Parse(s.probe.base)
		if err != nil {
			return nil, models.Internal(err, "the default base URL of %s is invalid", s.Name)
		}
		u = *def
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + s.probe.path
	u.RawPath = ""
	u.RawQuery = s.probe.query
	return &u, nil
}

// unavailable is the error for a check the provider could not answer; what
// says what happened, for the user.
func (s spec) unavailable(cause error, what string) error {
	var netErr net.Error
	if errors.Is(cause, context.DeadlineExceeded) || errors.As(cause, &netErr) && netErr.Timeout() {
		what = "did not answer in time"
	}
	return &models.Error{
		Code:    models.CodeUpstreamUnavailable,
		Field:   "key",
		Message: fmt.Sprintf("%s %s, so the key could not be checked; try again later.", s.Name, what),
		Err:     cause,
	}
}

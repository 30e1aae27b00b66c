package stripemock

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// Request is one request a client sent, as the Recorder saw it.
type Request struct {
	Method string
	Path   string
	// Form is the decoded body (Stripe's API takes form-encoded parameters, e.g.
	// "line_items[0][price]") merged with the query string.
	Form   url.Values
	Header http.Header
}

// Recorder is an http.RoundTripper that remembers every request before passing it
// on, for asserting what was sent where stripe-mock's fixtures cannot show it.
type Recorder struct {
	// Next sends the request on; nil means http.DefaultTransport.
	Next http.RoundTripper

	mu   sync.Mutex
	reqs []Request
}

// RoundTrip records req and sends it.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Form: url.Values{}}
	for k, v := range req.URL.Query() {
		rec.Form[k] = append(rec.Form[k], v...)
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				rec.Form[k] = append(rec.Form[k], v...)
			}
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

// Requests returns what was sent so far, in order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Find returns the requests with the method and path.
func (r *Recorder) Find(method, path string) []Request {
	var out []Request
	for _, req := range r.Requests() {
		if req.Method == method && req.Path == path {
			out = append(out, req)
		}
	}
	return out
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}

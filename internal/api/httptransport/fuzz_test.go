package httptransport_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestParameters sends arbitrary GraphQL-over-HTTP requests through both
// transports, as the server mounts them (bodies capped by http.MaxBytesHandler):
// POST bodies in any media type (application/json, application/graphql-response+json,
// application/x-www-form-urlencoded and application/graphql, which are refused with
// 415, or any other), GET query strings, with any Accept header. It never panics, and
// every answer is a well-formed GraphQL response in a media type the transports
// write: 200 with data or errors, or a 4xx request error (no data, at least one
// error) whose JSON body says why. Every error carries extensions.code.
func FuzzRequestParameters(f *testing.F) {
	for _, seed := range []struct {
		get                         bool
		contentType, accept, params string
	}{
		{false, jsonType, gqlType, `{"query":"{ name }"}`},
		{false, jsonType, jsonType, `{"query":"query Q($t: String!) { echo(text: $t) }","variables":{"t":"hi"},"operationName":"Q"}`},
		{false, jsonType + "; charset=utf-8", "", `{"query":"mutation { rename(name: \"x\") }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`},
		{false, jsonType, gqlType, `{"query":"subscription { ticks }"}`},
		{false, jsonType, "*/*", `{"query":"{ fail }"}`},
		{false, jsonType, jsonType, `{"query":"{ name } query B { name }","operationName":"C"}`},
		{false, jsonType, "text/html", `[{"query":"{ name }"}]`},
		{false, jsonType, jsonType, `{"query":null,"variables":[]}`},
		{false, jsonType, jsonType, `{"query":"{ echo(text: $x) }","variables":{"x":1e400}} trailing`},
		{false, gqlType, gqlType, `{"query":"{ name }"}`},
		{false, "application/x-www-form-urlencoded", jsonType, `query=%7B+name+%7D`},
		{false, "application/graphql", jsonType, `{ name }`},
		{false, "", "", `{"query":"{ name }"}`},
		{false, jsonType + "; charset=latin1", "application/json;q=0", "\xff"},
		{true, "", jsonType, `query=%7B+name+%7D`},
		{true, "", gqlType, `query=mutation+%7B+rename(name:"x")+%7D`},
		{true, "", gqlType, `query=query+Q($t:String!)%7Becho(text:$t)%7D&variables=%7B%22t%22:%22x%22%7D&operationName=Q`},
		{true, "", jsonType, `query=%7B+__type(name:"Query")+%7B+name+%7D+%7D&extensions=null`},
		{true, "", "", `query=%zz`},
		{true, "", "application/graphql-response+json;charset=utf-16, application/json;q=0.5", `variables=%7B%7D`},
	} {
		f.Add(seed.get, seed.contentType, seed.accept, seed.params)
	}
	h := http.MaxBytesHandler(newHandler(), 1<<16)
	f.Fuzz(func(t *testing.T, get bool, contentType, accept, params string) {
		var r *http.Request
		if get {
			r = httptest.NewRequest(http.MethodGet, "/graphql", nil)
			r.URL.RawQuery = params
		} else {
			r = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(params))
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
		}
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		checkResponse(t, rec)
	})
}

// checkResponse fails unless rec is a well-formed GraphQL-over-HTTP response.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	status, body := rec.Code, rec.Body.Bytes()
	if ct := rec.Header().Get("Content-Type"); ct != jsonReply && ct != gqlReply {
		t.Fatalf("status %d with Content-Type %q: %s", status, ct, body)
	}
	if status != http.StatusOK && (status < 400 || status > 499) {
		t.Fatalf("status %d: %s", status, body)
	}
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&members); err != nil || dec.More() {
		t.Fatalf("status %d: the body is not one JSON object: %s", status, body)
	}
	for key := range members {
		if key != "data" && key != "errors" && key != "extensions" {
			t.Fatalf("status %d: unexpected %q entry: %s", status, key, body)
		}
	}
	_, hasData := members["data"]
	var errs []struct {
		Message    *string        `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	if raw, ok := members["errors"]; ok {
		if err := json.Unmarshal(raw, &errs); err != nil || len(errs) == 0 {
			t.Fatalf("status %d: errors is not a non-empty list of errors: %s", status, body)
		}
	}
	for _, e := range errs {
		if e.Message == nil || e.Extensions["code"] == nil {
			t.Fatalf("status %d: an error without a message or extensions.code: %s", status, body)
		}
	}
	switch {
	case !hasData && len(errs) == 0:
		t.Fatalf("status %d: neither data nor errors: %s", status, body)
	case status != http.StatusOK && (hasData || len(errs) == 0):
		t.Fatalf("status %d: a request error must have errors and no data: %s", status, body)
	}
}

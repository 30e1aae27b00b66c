package httptransport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/internal/api/httptransport"
)

const (
	jsonType    = "application/json"
	gqlType     = "application/graphql-response+json"
	jsonReply   = "application/json; charset=utf-8"
	gqlReply    = "application/graphql-response+json; charset=utf-8"
	noData      = "" // want.data: the body must have no data key at all
	parseFailed = "GRAPHQL_PARSE_FAILED"
	invalid     = "GRAPHQL_VALIDATION_FAILED"
	badRequest  = httptransport.ErrCodeBadRequest
)

// want is what a response must look like.
type want struct {
	status      int
	contentType string
	data        string // JSON the data entry must equal, or noData
	code        string // extensions.code of the first error; "" means no errors
	message     string // substring of the first error message, if set
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	raw    string
	data   json.RawMessage
	hasKey map[string]bool
	errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

func send(t *testing.T, h http.Handler, r *http.Request) reply {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	res := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String(), hasKey: map[string]bool{}}
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "body is not a JSON object: %s", res.raw)
	for key := range body {
		res.hasKey[key] = true
	}
	res.data = body["data"]
	if errs, ok := body["errors"]; ok {
		require.NoError(t, json.Unmarshal(errs, &res.errors))
	}
	return res
}

// check compares a reply with what is wanted, and checks the rules every response
// follows: a UTF-8 content type, and an extensions.code on every error.
func check(t *testing.T, got reply, w want) {
	t.Helper()
	require.Equal(t, w.status, got.status, "body: %s", got.raw)
	require.Equal(t, w.contentType, got.header.Get("Content-Type"))
	if w.data == noData {
		require.False(t, got.hasKey["data"], "request errors must have no data key: %s", got.raw)
	} else {
		require.JSONEq(t, w.data, string(got.data), "body: %s", got.raw)
	}
	if w.code == "" {
		require.False(t, got.hasKey["errors"], "unexpected errors: %s", got.raw)
	} else {
		require.NotEmpty(t, got.errors, "body: %s", got.raw)
		require.Equal(t, w.code, got.errors[0].Extensions["code"], "body: %s", got.raw)
	}
	if w.message != "" {
		require.Contains(t, got.errors[0].Message, w.message)
	}
	for _, e := range got.errors {
		require.NotEmpty(t, e.Extensions["code"], "error without extensions.code: %s", got.raw)
	}
	if got.hasKey["data"] {
		// An executed operation's answer is written in parts, its length given.
		require.Equal(t, strconv.Itoa(len(got.raw)), got.header.Get("Content-Length"), "body: %s", got.raw)
	}
}

func postRequest(contentType, accept, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

func getRequest(accept string, params url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/graphql?"+params.Encode(), nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

func TestPOST(t *testing.T) {
	t.Parallel()
	h := newHandler()
	const nameQuery = `{"query":"{ name }"}`
	const nameData = `{"name":"test"}`
	ok := want{status: 200, contentType: jsonReply, data: nameData}
	okGQL := want{status: 200, contentType: gqlReply, data: nameData}
	// Request errors on a well-formed request: 200 for application/json, 400 for
	// application/graphql-response+json; never a data entry.
	jsonErr := func(code string) want { return want{status: 200, contentType: jsonReply, code: code} }
	gqlErr := func(code string) want { return want{status: 400, contentType: gqlReply, code: code} }
	// Malformed requests: 400 whatever the media type.
	malformed := func(contentType string) want {
		return want{status: 400, contentType: contentType, code: badRequest}
	}

	tests := []struct {
		name        string
		contentType string
		accept      string
		body        string
		want        want
	}{
		// Media type negotiation.
		{"accept json", jsonType, jsonType, nameQuery, ok},
		{"accept graphql-response", jsonType, gqlType, nameQuery, okGQL},
		{"accept any", jsonType, "*/*", nameQuery, ok},
		{"accept application any", jsonType, "application/*", nameQuery, ok},
		{"no accept", jsonType, "", nameQuery, ok},
		{"graphql-response preferred", jsonType, jsonType + ", " + gqlType, nameQuery, okGQL},
		{"graphql-response refused by q=0", jsonType, gqlType + ";q=0, " + jsonType, nameQuery, ok},
		{"browser accept", jsonType, "text/html,application/xhtml+xml,*/*;q=0.8", nameQuery, ok},
		{"nothing acceptable", jsonType, "text/html", nameQuery, want{status: 406, contentType: jsonReply, code: badRequest}},
		{"only other charsets", jsonType, jsonType + "; charset=iso-8859-1", nameQuery, want{status: 406, contentType: jsonReply, code: badRequest}},

		// Request content type.
		{"charset utf-8", jsonType + "; charset=utf-8", "", nameQuery, ok},
		{"charset UTF-8", jsonType + "; charset=UTF-8", "", nameQuery, ok},
		{"no content type", "", "", nameQuery, want{status: 415, contentType: jsonReply, code: badRequest}},
		{"text/plain", "text/plain", gqlType, nameQuery, want{status: 415, contentType: gqlReply, code: badRequest}},
		{"form encoded", "application/x-www-form-urlencoded", "", "query=%7B+name+%7D", want{status: 415, contentType: jsonReply, code: badRequest}},
		{"other charset", jsonType + "; charset=latin1", "", nameQuery, want{status: 415, contentType: jsonReply, code: badRequest}},
		{"unparsable content type", "application/json; ;", "", nameQuery, want{status: 415, contentType: jsonReply, code: badRequest}},

		// Body.
		{"empty body json", jsonType, jsonType, "", malformed(jsonReply)},
		{"empty body graphql-response", jsonType, gqlType, "", malformed(gqlReply)},
		{"invalid JSON json", jsonType, jsonType, `{ "not a JSON`, malformed(jsonReply)},
		{"invalid JSON graphql-response", jsonType, gqlType, `{ "not a JSON`, malformed(gqlReply)},
		{"trailing data", jsonType, "", nameQuery + ` {}`, malformed(jsonReply)},
		{"array body", jsonType, "", `[` + nameQuery + `]`, malformed(jsonReply)},
		{"null body", jsonType, "", `null`, malformed(jsonReply)},

		// Parameters.
		{"missing query json", jsonType, jsonType, `{"qeury":"{ name }"}`, malformed(jsonReply)},
		{"missing query graphql-response", jsonType, gqlType, `{"qeury":"{ name }"}`, malformed(gqlReply)},
		{"null query", jsonType, "", `{"query":null}`, malformed(jsonReply)},
		{"object query", jsonType, "", `{"query":{"an":"object"}}`, malformed(jsonReply)},
		{"number query", jsonType, "", `{"query":0}`, malformed(jsonReply)},
		{"boolean query", jsonType, "", `{"query":false}`, malformed(jsonReply)},
		{"array query", jsonType, "", `{"query":["array"]}`, malformed(jsonReply)},
		{"object operationName", jsonType, "", `{"query":"{ name }","operationName":{}}`, malformed(jsonReply)},
		{"number operationName", jsonType, gqlType, `{"query":"{ name }","operationName":0}`, malformed(gqlReply)},
		{"string variables", jsonType, "", `{"query":"{ name }","variables":"string"}`, malformed(jsonReply)},
		{"array variables", jsonType, "", `{"query":"{ name }","variables":["array"]}`, malformed(jsonReply)},
		{"boolean variables", jsonType, "", `{"query":"{ name }","variables":false}`, malformed(jsonReply)},
		{"string extensions", jsonType, "", `{"query":"{ name }","extensions":"string"}`, malformed(jsonReply)},
		{"number extensions", jsonType, gqlType, `{"query":"{ name }","extensions":0}`, malformed(gqlReply)},
		{"null parameters", jsonType, gqlType, `{"query":"{ name }","operationName":null,"variables":null,"extensions":null}`, okGQL},
		{"extensions map", jsonType, jsonType, `{"query":"{ name }","extensions":{"some":"value"}}`, ok},
		{"surrounding whitespace", jsonType, jsonType, "\n\t " + nameQuery + " \n", ok},
		{"unknown members ignored", jsonType, jsonType, `{"query":"{ name }","other":1}`, ok},

		// Execution.
		{"variables", jsonType, jsonType, `{"query":"query Q($t: String!) { echo(text: $t) }","variables":{"t":"hi"}}`,
			want{status: 200, contentType: jsonReply, data: `{"echo":"hi"}`}},
		{"utf-8 text", jsonType + "; charset=utf-8", gqlType, `{"query":"{ echo(text: \"Run🏃Swim🏊\") }"}`,
			want{status: 200, contentType: gqlReply, data: `{"echo":"Run🏃Swim🏊"}`}},
		{"operationName picks the operation", jsonType, jsonType, `{"query":"query A { name } query B { echo(text: \"b\") }","operationName":"B"}`,
			want{status: 200, contentType: jsonReply, data: `{"echo":"b"}`}},
		{"mutation", jsonType, gqlType, `{"query":"mutation { rename(name: \"new\") }"}`,
			want{status: 200, contentType: gqlReply, data: `{"rename":"new"}`}},
		{"introspection typename", jsonType, jsonType, `{"query":"{ __typename }"}`,
			want{status: 200, contentType: jsonReply, data: `{"__typename":"Query"}`}},
		{"field error json", jsonType, jsonType, `{"query":"{ fail }"}`,
			want{status: 200, contentType: jsonReply, data: `null`, code: "INTERNAL_SERVER_ERROR"}},
		{"field error graphql-response", jsonType, gqlType, `{"query":"{ fail }"}`,
			want{status: 200, contentType: gqlReply, data: `null`, code: "INTERNAL_SERVER_ERROR"}},

		// Request errors raised by gqlgen.
		{"parse failure json", jsonType, jsonType, `{"query":"{"}`, jsonErr(parseFailed)},
		{"parse failure graphql-response", jsonType, gqlType, `{"query":"{"}`, gqlErr(parseFailed)},
		{"empty document", jsonType, gqlType, `{"query":""}`, gqlErr(invalid)},
		{"validation failure json", jsonType, jsonType, `{"query":"{ nope }"}`, jsonErr(invalid)},
		{"validation failure graphql-response", jsonType, gqlType, `{"query":"{ nope }"}`, gqlErr(invalid)},
		{"variable coercion json", jsonType, jsonType, `{"query":"query Q($t: String!) { echo(text: $t) }","variables":{"t":null}}`, jsonErr(invalid)},
		{"variable coercion graphql-response", jsonType, gqlType, `{"query":"query Q($t: String!) { echo(text: $t) }","variables":{}}`, gqlErr(invalid)},
		{"operation not found json", jsonType, jsonType, `{"query":"query A { name }","operationName":"B"}`, jsonErr(invalid)},
		{"operation not found graphql-response", jsonType, gqlType, `{"query":"query A { name }","operationName":"B"}`, gqlErr(invalid)},
		{"ambiguous operation", jsonType, gqlType, `{"query":"query A { name } query B { name }"}`, gqlErr(invalid)},

		// Subscriptions need a stream.
		{"subscription json", jsonType, jsonType, `{"query":"subscription { ticks }"}`,
			want{status: 200, contentType: jsonReply, code: badRequest, message: "streaming transport"}},
		{"subscription graphql-response", jsonType, gqlType, `{"query":"subscription { ticks }"}`,
			want{status: 400, contentType: gqlReply, code: badRequest, message: "streaming transport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, send(t, h, postRequest(tt.contentType, tt.accept, tt.body)), tt.want)
		})
	}
}

func TestGET(t *testing.T) {
	t.Parallel()
	h := newHandler()
	query := func(q string, more ...string) url.Values {
		v := url.Values{"query": {q}}
		for i := 0; i+1 < len(more); i += 2 {
			v.Set(more[i], more[i+1])
		}
		return v
	}
	const echo = "query Q($t: String!) { echo(text: $t) }"
	malformed := want{status: 400, contentType: jsonReply, code: badRequest}
	notAllowed := func(contentType, message string) want {
		return want{status: 405, contentType: contentType, code: badRequest, message: message}
	}

	tests := []struct {
		name   string
		accept string
		params url.Values
		want   want
	}{
		{"query", "", query("{ name }"), want{status: 200, contentType: jsonReply, data: `{"name":"test"}`}},
		{"graphql-response", gqlType, query("{ name }"), want{status: 200, contentType: gqlReply, data: `{"name":"test"}`}},
		{"variables", gqlType, query(echo, "variables", `{"t":"hi"}`), want{status: 200, contentType: gqlReply, data: `{"echo":"hi"}`}},
		{"operationName", jsonType, query("query A { name } query B { echo(text: \"b\") }", "operationName", "B"),
			want{status: 200, contentType: jsonReply, data: `{"echo":"b"}`}},
		{"null variables and extensions", "", query("{ name }", "variables", "null", "extensions", "null"),
			want{status: 200, contentType: jsonReply, data: `{"name":"test"}`}},
		{"extensions map", "", query("{ name }", "extensions", `{"some":"value"}`),
			want{status: 200, contentType: jsonReply, data: `{"name":"test"}`}},
		{"variables with whitespace", "", query(echo, "variables", ` {"t":"hi"} `), want{status: 200, contentType: jsonReply, data: `{"echo":"hi"}`}},
		{"invalid variables JSON", "", query(echo, "variables", `{"t":`), malformed},
		{"array variables", "", query(echo, "variables", `["hi"]`), malformed},
		{"string extensions", "", query("{ name }", "extensions", `"string"`), malformed},
		{"trailing data in variables", "", query(echo, "variables", `{"t":"hi"} x`), malformed},
		{"missing query", "", url.Values{"qeury": {"{ name }"}}, malformed},
		{"nothing acceptable", "text/html", query("{ name }"), want{status: 406, contentType: jsonReply, code: badRequest}},
		{"parse failure json", jsonType, query("{"), want{status: 200, contentType: jsonReply, code: parseFailed}},
		{"parse failure graphql-response", gqlType, query("{"), want{status: 400, contentType: gqlReply, code: parseFailed}},
		{"validation failure graphql-response", gqlType, query("{ nope }"), want{status: 400, contentType: gqlReply, code: invalid}},
		{"mutation json", jsonType, query(`mutation { rename(name: "x") }`), notAllowed(jsonReply, "POST")},
		{"mutation graphql-response", gqlType, query(`mutation { rename(name: "x") }`), notAllowed(gqlReply, "POST")},
		{"subscription", gqlType, query("subscription { ticks }"), notAllowed(gqlReply, "streaming transport")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := send(t, h, getRequest(tt.accept, tt.params))
			check(t, got, tt.want)
			if tt.want.status == http.StatusMethodNotAllowed {
				require.Equal(t, "POST", got.header.Get("Allow"))
			}
		})
	}
}

// Request errors go through the server's error presenter like any other error; a code
// the presenter removes is put back, since every error must carry one.
func TestRequestErrorsUseTheErrorPresenter(t *testing.T) {
	t.Parallel()
	srv := newHandler()
	srv.SetErrorPresenter(func(_ context.Context, err error) *gqlerror.Error {
		return &gqlerror.Error{Message: "presented: " + err.Error()}
	})
	tests := []struct {
		name string
		r    *http.Request
		want want
	}{
		{"transport error", postRequest(jsonType, gqlType, `{"query":0}`),
			want{status: 400, contentType: gqlReply, code: badRequest, message: "presented: input: the query parameter must be a string"}},
		{"gqlgen error", postRequest(jsonType, gqlType, `{"query":"{"}`),
			want{status: 400, contentType: gqlReply, code: badRequest, message: "presented: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, send(t, srv, tt.r), tt.want)
		})
	}
}

func TestGETMalformedQueryString(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/graphql?query=%zz", nil)
	check(t, send(t, newHandler(), r), want{status: 400, contentType: jsonReply, code: badRequest})
}

// The server wraps bodies in http.MaxBytesReader; the transport turns the limit into 413.
func TestPOSTBodyTooLarge(t *testing.T) {
	t.Parallel()
	h := http.MaxBytesHandler(newHandler(), 32)
	body := `{"query":"{ echo(text: \"` + strings.Repeat("x", 64) + `\") }"}`
	for _, accept := range []string{jsonType, gqlType} {
		got := send(t, h, postRequest(jsonType, accept, body))
		reply := jsonReply
		if accept == gqlType {
			reply = gqlReply
		}
		check(t, got, want{status: 413, contentType: reply, code: httptransport.ErrCodePayloadTooLarge, message: "32 bytes"})
	}
}

// Bodies and query strings may carry secrets: errors must not quote them.
func TestErrorsDoNotEchoTheRequest(t *testing.T) {
	t.Parallel()
	h := newHandler()
	const secret = "hunter2-secret"
	requests := []*http.Request{
		postRequest(jsonType, "", `{"query": "{ name }", "variables": {"token": "`+secret+`"`),
		postRequest(jsonType, "", `{"query": 1, "password": "`+secret+`"}`),
		postRequest(jsonType, "", `{"query": "{ name }", "variables": "`+secret+`"}`),
		postRequest(jsonType, "", `["`+secret+`"]`),
		getRequest("", url.Values{"query": {"{ name }"}, "variables": {secret}}),
	}
	for _, r := range requests {
		got := send(t, h, r)
		require.Equal(t, http.StatusBadRequest, got.status)
		require.NotContains(t, got.raw, secret)
	}
}

func TestSupports(t *testing.T) {
	t.Parallel()
	request := func(method string, header ...string) *http.Request {
		r := httptest.NewRequest(method, "/graphql", nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
	tests := []struct {
		name      string
		r         *http.Request
		post, get bool
	}{
		{"POST json", request(http.MethodPost, "Content-Type", jsonType), true, false},
		// Claimed so that the client gets a 415 with a JSON error.
		{"POST without content type", request(http.MethodPost), true, false},
		{"POST for SSE", request(http.MethodPost, "Content-Type", jsonType, "Accept", "text/event-stream"), false, false},
		{"POST for SSE among others", request(http.MethodPost, "Content-Type", jsonType, "Accept", "application/json, Text/Event-Stream"), false, false},
		{"GET", request(http.MethodGet), false, true},
		{"GET websocket upgrade", request(http.MethodGet, "Connection", "Upgrade", "Upgrade", "websocket"), false, false},
		{"GET websocket upgrade, mixed case", request(http.MethodGet, "Upgrade", "WebSocket"), false, false},
		{"PUT", request(http.MethodPut, "Content-Type", jsonType), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.post, httptransport.POST{}.Supports(tt.r), "POST.Supports")
			require.Equal(t, tt.get, httptransport.GET{}.Supports(tt.r), "GET.Supports")
		})
	}
}

// An operation the server refused to run for rate limiting (no data, only RATE_LIMITED
// errors) is answered with 429 and Retry-After; an operation that ran keeps 200 even
// when a field of it was rate limited.
func TestRateLimitedOperations(t *testing.T) {
	t.Parallel()
	limited := func(retryAfter any) *gqlerror.Error {
		ext := map[string]any{"code": "RATE_LIMITED"}
		if retryAfter != nil {
			ext["retryAfter"] = retryAfter
		}
		return &gqlerror.Error{Message: "slow down", Extensions: ext}
	}
	srv := newHandler()
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		switch graphql.GetOperationContext(ctx).Operation.Name {
		case "Refused":
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{limited(7)}})
		case "RefusedTwice":
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{limited(3), limited(9)}})
		case "TooBig":
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{limited(nil)}})
		case "FieldLimited":
			return graphql.OneShot(&graphql.Response{Data: json.RawMessage("null"), Errors: gqlerror.List{limited(7)}})
		case "OtherRefusal":
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "FORBIDDEN"}}}})
		}
		return next(ctx)
	})
	tests := []struct {
		name       string
		r          *http.Request
		want       want
		retryAfter string
	}{
		{"refused, application/json", postRequest(jsonType, jsonType, `{"query":"query Refused { name }"}`),
			want{status: 429, contentType: jsonReply, code: "RATE_LIMITED", message: "slow down"}, "7"},
		{"refused, graphql-response+json", postRequest(jsonType, gqlType, `{"query":"mutation Refused { rename(name: \"x\") }"}`),
			want{status: 429, contentType: gqlReply, code: "RATE_LIMITED"}, "7"},
		{"refused over GET", getRequest(gqlType, url.Values{"query": {"query Refused { name }"}}),
			want{status: 429, contentType: gqlReply, code: "RATE_LIMITED"}, "7"},
		{"the longest wait wins", postRequest(jsonType, gqlType, `{"query":"query RefusedTwice { name }"}`),
			want{status: 429, contentType: gqlReply, code: "RATE_LIMITED"}, "9"},
		{"no wait helps: no Retry-After", postRequest(jsonType, gqlType, `{"query":"query TooBig { name }"}`),
			want{status: 429, contentType: gqlReply, code: "RATE_LIMITED"}, ""},
		{"a field was limited: the operation ran", postRequest(jsonType, gqlType, `{"query":"query FieldLimited { name }"}`),
			want{status: 200, contentType: gqlReply, data: "null", code: "RATE_LIMITED"}, ""},
		{"other refusals unchanged", postRequest(jsonType, gqlType, `{"query":"query OtherRefusal { name }"}`),
			want{status: 200, contentType: gqlReply, data: "null", code: "FORBIDDEN"}, ""},
		{"admitted", postRequest(jsonType, gqlType, `{"query":"query Fine { name }"}`),
			want{status: 200, contentType: gqlReply, data: `{"name":"test"}`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := send(t, srv, tt.r)
			check(t, got, tt.want)
			require.Equal(t, tt.retryAfter, got.header.Get("Retry-After"))
		})
	}
}

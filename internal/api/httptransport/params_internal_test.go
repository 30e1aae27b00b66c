package httptransport

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeParams checks decodeBody's one-pass decoder against the step-by-step
// checks that choose its errors: a body decodeParams accepts is accepted by checkBody
// with the same parameters (so the errors and answers stay what the checks say), and
// every body checkBody accepts takes the one pass.
func FuzzDecodeParams(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ name }"}`,
		`{"query":"query Q($t: String!) { echo(text: $t) }","variables":{"t":"hi","n":12345678901234567890,"f":1e400},"operationName":"Q"}`,
		`{"query":"{ x }","operationName":null,"variables":null,"extensions":{"persistedQuery":{"version":1}}}`,
		`{"query":"{ x }","extra":[1,2,{"a":null}]}  ` + "\n\t\r",
		`{"query":"a","query":"b","variables":1,"variables":{}}`,
		`{"query":"a","Query":5,"OPERATIONNAME":[]}`,
		`{"query":"\ud800 \xff"}`,
		`{"query":"x"} {}`,
		`{"query":"x"}` + "\v",
		`{"query":"x"}]`,
		`[{"query":"x"}]`,
		`null`,
		`"query"`,
		`{"query":null}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":null,"extensions":{"persistedQuery":{"version":1},"n":1e400}}`,
		`{"extensions":{"persistedQuery":null}}`,
		`{"extensions":{"persistedQuery":1},"variables":[]}`,
		`{"extensions":[]}`,
		`{"query":1}`,
		`{"query":"x","operationName":1}`,
		`{"query":"x","variables":[]}`,
		`{"query":"x","extensions":"e"}`,
		`{"query":"x","variables":{"a":1e400}`,
		"\ufeff{\"query\":\"x\"}",
		`{"documentId":"sha256:ab"}`,
		`{"documentId":"ab","extensions":{"persistedQuery":{"version":1,"sha256Hash":"AB"}}}`,
		`{"documentId":"ab","extensions":{"persistedQuery":{"version":1,"sha256Hash":"cd"}}}`,
		`{"documentId":"ab","extensions":{"persistedQuery":"x"}}`,
		`{"documentId":"","query":"{ x }"}`,
		`{"documentId":5}`,
		`{"documentId":null}`,
		`{"documentId":"ab","extensions":{"other":1}}`,
		` {"query" : "{ x }" , "variables" : { "a" : "}{][\"}" , "b" : [ { } ] } }`,
		`{"query":"x","variables":{"a":1}x}`,
		`{"query":"x","variables":{"a":1]}`,
		`{"query":"x","variables":{"a":"\"}}`,
		`{"query":"x","extensions":{},"variables":{ }}`,
		`{"query":"x","operationName":nul}`,
		`{"query":"x","operationName":nullx}`,
		"{\"query\":\"é\",\"operationName\":\"\xc3\"}",
		`{"query":"x",}`,
		`{"query":"x""variables":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeParams(body)
		slow, fail := checkBody(body)
		switch {
		case ok && fail != nil:
			t.Fatalf("one pass accepts what the checks refuse (%s): %q", fail.message, body)
		case !ok && fail == nil:
			t.Fatalf("the checks accept what one pass refuses: %q", body)
		case ok && !reflect.DeepEqual(fast, slow):
			t.Fatalf("different parameters for %q:\none pass %#v\nchecks   %#v", body, fast, slow)
		}
	})
}

// TestDocumentID: a documentId (bare, or "sha256:" as the GraphQL-over-HTTP proposal
// writes it) is put where the persisted-query extension looks, over POST and GET; the
// request's other extensions stay; naming two documents, or an empty one, is refused.
func TestDocumentID(t *testing.T) {
	t.Parallel()
	pq := func(hash string) map[string]any {
		return map[string]any{"version": json.Number("1"), "sha256Hash": hash}
	}
	for _, tc := range []struct {
		body, query string
		want        map[string]any
		fail        string
	}{
		{body: `{"documentId":"ab"}`, query: `documentId=ab`, want: map[string]any{"persistedQuery": pq("ab")}},
		{body: `{"documentId":"sha256:ab","extensions":{"tracing":true}}`, query: `documentId=sha256:ab&extensions={"tracing":true}`,
			want: map[string]any{"persistedQuery": pq("sha256:ab"), "tracing": true}},
		{body: `{"documentId":"sha256:AB","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
			query: `documentId=sha256:AB&extensions={"persistedQuery":{"version":1,"sha256Hash":"ab"}}`,
			want:  map[string]any{"persistedQuery": pq("ab")}},
		{body: `{"documentId":"ab","extensions":{"persistedQuery":{"version":1,"sha256Hash":"cd"}}}`,
			query: `documentId=ab&extensions={"persistedQuery":{"version":1,"sha256Hash":"cd"}}`, fail: "name different documents"},
		{body: `{"documentId":""}`, query: `documentId=`, fail: "must not be empty"},
		{body: `{"documentId":["ab"]}`, fail: "must be a string or null"},
	} {
		params, fail := decodeBody([]byte(tc.body))
		if tc.fail != "" {
			if fail == nil || !strings.Contains(fail.message, tc.fail) {
				t.Fatalf("%s: want %q, got %+v", tc.body, tc.fail, fail)
			}
		} else if fail != nil || !reflect.DeepEqual(params.Extensions, tc.want) {
			t.Fatalf("%s: %+v, %#v", tc.body, fail, params)
		}
		if tc.query == "" {
			continue
		}
		params, fail = paramsFromQueryString(tc.query)
		if tc.fail != "" {
			if fail == nil || !strings.Contains(fail.message, tc.fail) {
				t.Fatalf("%s: want %q, got %+v", tc.query, tc.fail, fail)
			}
			continue
		}
		if fail != nil {
			t.Fatalf("%s: %+v", tc.query, fail)
		}
		if !reflect.DeepEqual(params.Extensions, tc.want) {
			t.Fatalf("%s: %#v", tc.query, params.Extensions)
		}
	}
}

// TestDecodeCommon: decodeCommon reads the bodies clients send most (a query, with or
// without an operation name, variables and extensions, spaced any way) and gives the
// parameters the step-by-step checks give; every other body it leaves to the full
// decoding.
func TestDecodeCommon(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"query":"{ plans { tier } }"}`,
		`{"query":"query Q($id: ID!) { persona(id: $id) { id } }","variables":{"id":"p1","n":1.5e3,"deep":{"l":[1,"}",{"x":null}]}},"operationName":"Q"}`,
		`{"operationName":null,"variables":null,"extensions":null,"query":"{ x }"}`,
		`{"query":"{ x }","variables":{},"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		" \t\r\n{ \"query\" :\"{ x }\" ,\"variables\": { } } \n",
		`{"query":"{ café }"}`,
		`{"query":""}`,
		`{"query":"x","variables":{"a":1e400}}`,
		`{"query":"{ x }","variables":{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}}`,
	} {
		fast, ok := decodeCommon([]byte(body))
		require.True(t, ok, body)
		slow, fail := checkBody([]byte(body))
		require.Nil(t, fail, body)
		require.Equal(t, slow, fast, body)
	}
	for _, body := range []string{
		`{"query":"{ x }\n"}`,                             // an escape
		`{"qu\u0065ry":"{ x }"}`,                          // an escaped key
		`{"query":"a","query":"b"}`,                       // a repeated member
		`{"query":"x","extra":1}`,                         // another member
		`{"query":"x","documentId":"ab"}`,                 // a persisted document
		`{"extensions":{"persistedQuery":{"version":1}}}`, // no query
		`{"query":null}`,
		"{\"query\":\"\xff\"}", // not UTF-8
		`{"query":"x","variables":[]}`,
		`{"query":"x"} {}`,
		"\ufeff{\"query\":\"x\"}",
		// Nested deeper than encoding/json allows in a body (found in review: the
		// variables decoded apart had a level more).
		`{"query":"{ x }","variables":{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`,
		`{"query":"{ x }","extensions":{"a":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}}`,
	} {
		_, ok := decodeCommon([]byte(body))
		require.False(t, ok, body)
	}
	tooDeep := []byte(`{"query":"{ x }","variables":{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`)
	_, ok := decodeParams(tooDeep)
	require.False(t, ok, "a body nested deeper than encoding/json allows is refused")
}

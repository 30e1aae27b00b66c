package httptransport

import (
	"reflect"
	"testing"
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

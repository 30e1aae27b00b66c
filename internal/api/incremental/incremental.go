// Package incremental turns the successive responses gqlgen's executor gives
// for an operation that uses @defer into the payloads of the incremental
// delivery format Apollo Client reads (deferSpec=20220824), ready to marshal:
//
//	{"data":{...},"hasNext":true}
//	{"incremental":[{"data":{...},"path":["viewer"],"label":"slow"}],"hasNext":true}
//	{"incremental":[{"data":{...},"path":[],"errors":[...]}],"hasNext":false}
//
// gqlgen marks such an operation on its first response: HasNext is non-nil
// (true) exactly when the operation has deferred parts, and every later
// response carries the deferred fragment's Path, Label, Errors and HasNext.
// A transport calls the response handler once; when Deferred reports false it
// writes the response as it always has, otherwise it sends Initial of that
// response and Subsequent of each later one until the handler returns nil.
// A transport whose client cannot read payloads in sequence collects them and
// sends Merge's one complete response instead.
//
// The package holds no state, so the HTTP, SSE and WebSocket transports share
// it; only Next starts a goroutine, for the responses after a deferred
// operation's first.
package incremental

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Spec names the format in the media type parameter Apollo Client sends and
// expects back: multipart/mixed;deferSpec=20220824.
const Spec = "20220824"

// Payload is one payload of the sequence. The first has Data and no
// Incremental; every later one has Incremental and no Data. HasNext is always
// written: false on the last payload.
type Payload struct {
	Errors      gqlerror.List   `json:"errors,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Incremental []Item          `json:"incremental,omitempty"`
	HasNext     bool            `json:"hasNext"`
	Extensions  map[string]any  `json:"extensions,omitempty"`
}

// Item is the result of one deferred fragment: its fields (Data, or null when
// a non-null field in it failed), where they belong (Path, from the root of
// the first payload's data; [] for a fragment on the operation's root) and the
// fragment's label when it has one.
type Item struct {
	Data       json.RawMessage `json:"data"`
	Path       ast.Path        `json:"path"`
	Label      string          `json:"label,omitempty"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// Deferred reports whether first, the executor's first response for an
// operation, starts an incremental sequence. It is false for every operation
// without an active @defer (and for errors returned before execution), whose
// response a transport writes exactly as it did before.
func Deferred(first *graphql.Response) bool {
	return first != nil && first.HasNext != nil
}

// Initial is the first payload: the data without the deferred fields, the
// errors raised so far, and hasNext.
func Initial(first *graphql.Response) Payload {
	return Payload{
		Errors:     first.Errors,
		Data:       first.Data,
		HasNext:    hasNext(first),
		Extensions: first.Extensions,
	}
}

// Subsequent is a later payload carrying one item per response, in order; its
// hasNext is the last response's. A transport may pass the responses it has
// at hand together, or one at a time.
func Subsequent(responses ...*graphql.Response) Payload {
	p := Payload{Incremental: make([]Item, 0, len(responses))}
	for _, r := range responses {
		p.Incremental = append(p.Incremental, item(r))
	}
	if n := len(responses); n > 0 {
		p.HasNext = hasNext(responses[n-1])
	}
	return p
}

func item(r *graphql.Response) Item {
	path := r.Path
	if path == nil {
		path = ast.Path{} // the root: [] on the wire, never null
	}
	data := r.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return Item{Data: data, Path: path, Label: r.Label, Errors: r.Errors, Extensions: r.Extensions}
}

func hasNext(r *graphql.Response) bool {
	return r.HasNext != nil && *r.HasNext
}

// Merge folds a whole sequence (the first response, then the later ones in
// the order the executor gave them) into one complete response without
// HasNext, for a client that did not offer to read payloads in sequence. Each
// deferred fragment's fields are added to the object at its path, after the
// fields already there (a fragment nested in another waits for the fields it
// belongs under); the errors of every response are kept, in order. A fragment
// whose data is null, or whose path leads to null or nowhere (a parent was
// nulled by an error), adds only its errors.
func Merge(responses []*graphql.Response) (*graphql.Response, error) {
	if len(responses) == 0 {
		return nil, fmt.Errorf("incremental: merge of no responses")
	}
	first := responses[0]
	merged := &graphql.Response{
		Errors:     append(gqlerror.List(nil), first.Errors...),
		Data:       first.Data,
		Extensions: first.Extensions,
	}
	var waiting []*graphql.Response
	for _, r := range responses[1:] {
		merged.Errors = append(merged.Errors, r.Errors...)
		if !isNull(r.Data) {
			waiting = append(waiting, r)
		}
	}
	// A fragment deferred inside another deferred fragment may arrive before
	// the fields it belongs under: it waits until an insert makes its path.
	for progress := true; progress && len(waiting) > 0; {
		progress = false
		rest := waiting[:0]
		for _, r := range waiting {
			data, found, err := insert(merged.Data, r.Path, r.Data)
			if err != nil {
				return nil, fmt.Errorf("incremental: merge at %s: %w", r.Path, err)
			}
			if !found {
				rest = append(rest, r)
				continue
			}
			merged.Data, progress = data, true
		}
		waiting = rest
	}
	return merged, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// insert returns doc with the members of the object fields added to the
// object found at path, and whether path led anywhere. A path that leads to
// null counts as found and leaves doc as it is: the null came with an error
// of its own.
func insert(doc json.RawMessage, path ast.Path, fields json.RawMessage) (json.RawMessage, bool, error) {
	if isNull(doc) {
		return doc, true, nil
	}
	if len(path) == 0 {
		merged, err := mergeObjects(doc, fields)
		return merged, err == nil, err
	}
	switch step := path[0].(type) {
	case ast.PathName:
		members, err := objectMembers(doc)
		if err != nil {
			return nil, false, err
		}
		for i := range members {
			if members[i].key != string(step) {
				continue
			}
			v, found, err := insert(members[i].value, path[1:], fields)
			if err != nil || !found {
				return doc, found, err
			}
			members[i].value = v
			return encodeObject(members), true, nil
		}
		return doc, false, nil
	case ast.PathIndex:
		var elems []json.RawMessage
		if err := json.Unmarshal(doc, &elems); err != nil {
			return nil, false, err
		}
		if int(step) < 0 || int(step) >= len(elems) {
			return doc, false, nil
		}
		v, found, err := insert(elems[step], path[1:], fields)
		if err != nil || !found {
			return doc, found, err
		}
		elems[step] = v
		return encodeArray(elems), true, nil
	default:
		return nil, false, fmt.Errorf("unknown path element %T", step)
	}
}

type member struct {
	key   string
	value json.RawMessage
}

// objectMembers reads a JSON object keeping its members' order, which a
// map would lose (GraphQL orders a result's fields as the query selects them).
func objectMembers(doc json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object: %.40s", doc)
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		members = append(members, member{key: key, value: v})
	}
	return members, nil
}

func encodeObject(members []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(m.key) // a string always marshals
		b.Write(key)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// encodeArray writes elems as they are: json.Marshal would compact them again and
// escape <, > and &, which the executor's own encoding leaves alone.
func encodeArray(elems []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// mergeObjects adds the members of fields to the object doc, after the
// members already there; a member both have is merged when both values are
// objects, and otherwise takes the later value.
func mergeObjects(doc, fields json.RawMessage) (json.RawMessage, error) {
	have, err := objectMembers(doc)
	if err != nil {
		return nil, err
	}
	add, err := objectMembers(fields)
	if err != nil {
		return nil, err
	}
	for _, m := range add {
		i := slices.IndexFunc(have, func(h member) bool { return h.key == m.key })
		switch {
		case i < 0:
			have = append(have, m)
		case isObject(have[i].value) && isObject(m.value):
			v, err := mergeObjects(have[i].value, m.value)
			if err != nil {
				return nil, err
			}
			have[i].value = v
		default:
			have[i].value = m.value
		}
	}
	return encodeObject(have), nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// Next returns the next response of an operation with deferred parts, read from
// h, or nil when ctx ends first. A transport calls it, rather than h, for every
// response after the first of an operation Deferred reports true for; it calls h
// directly otherwise, so operations without @defer start no goroutine.
//
// gqlgen's executor waits for a deferred fragment's result without watching the
// context, while the fragment gives up sending it once the context ends: a
// client that leaves (disconnect, DELETE, complete) while fragments are pending
// would block h, and the transport calling it, forever. Next reads h on a
// goroutine of its own and stops waiting when ctx ends. That goroutine may then
// stay blocked in the executor until the process exits (nothing can wake it):
// it holds only h (the operation's execution context, which the executor keeps
// anyway) and a one-slot channel, so a late response is dropped, not leaked
// further. A panic in h is raised again on the caller's goroutine, where the
// transport recovers it as before.
func Next(ctx context.Context, h graphql.ResponseHandler) *graphql.Response {
	if ctx.Err() != nil {
		return nil
	}
	type result struct {
		resp  *graphql.Response
		panic any
	}
	out := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
			}
			out <- r
		}()
		r.resp = h(ctx)
	}()
	select {
	case r := <-out:
		if r.panic != nil {
			panic(r.panic)
		}
		return r.resp
	case <-ctx.Done():
		return nil
	}
}

package incremental

import (
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// OmitPlaceholders returns first, the executor's first response for an operation
// with @defer, without the deferred fields: gqlgen writes each of them there as a
// null placeholder (null even for a non-null field), while the format says they
// are absent until their payload brings them. Send Initial of what it returns. oc
// is the operation's context (CreateOperationContext's), which says which fields
// the operation defers. A response that is not deferred, or whose data is null, is
// returned as it is; so is first when its data cannot be read (an error).
//
// Only the first payload is trimmed: a fragment deferred inside another deferred
// fragment still shows as null in its parent's payload, until its own arrives.
// For an abstract type the walk applies every fragment whatever its type
// condition, which is exact unless two fragments on different types select the
// same response name, one deferred and the other not.
func OmitPlaceholders(oc *graphql.OperationContext, first *graphql.Response) (*graphql.Response, error) {
	if !Deferred(first) || isNull(first.Data) || oc == nil || oc.Operation == nil {
		return first, nil
	}
	data, changed, err := omit(oc, first.Data, oc.Operation.SelectionSet)
	if err != nil || !changed {
		return first, err
	}
	trimmed := *first
	trimmed.Data = data
	return &trimmed, nil
}

// omit removes the deferred fields of the object raw, selected by sel, and of the
// objects under it.
func omit(oc *graphql.OperationContext, raw json.RawMessage, sel ast.SelectionSet) (json.RawMessage, bool, error) {
	switch {
	case isNull(raw):
		return raw, false, nil
	case isObject(raw):
	default:
		return omitInList(oc, raw, sel)
	}
	members, err := objectMembers(raw)
	if err != nil {
		return nil, false, err
	}
	changed := false
	for _, f := range graphql.CollectFields(oc, sel, nil) {
		i := indexOf(members, f.Alias)
		if i < 0 {
			continue
		}
		if f.IsDeferred() {
			members = append(members[:i], members[i+1:]...)
			changed = true
			continue
		}
		if len(f.Selections) == 0 {
			continue
		}
		v, c, err := omit(oc, members[i].value, f.Selections)
		if err != nil {
			return nil, false, err
		}
		if c {
			members[i].value, changed = v, true
		}
	}
	if !changed {
		return raw, false, nil
	}
	return encodeObject(members), true, nil
}

// omitInList applies omit to each element of a list of objects (or of lists).
func omitInList(oc *graphql.OperationContext, raw json.RawMessage, sel ast.SelectionSet) (json.RawMessage, bool, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false, err
	}
	changed := false
	for i := range elems {
		v, c, err := omit(oc, elems[i], sel)
		if err != nil {
			return nil, false, err
		}
		if c {
			elems[i], changed = v, true
		}
	}
	if !changed {
		return raw, false, nil
	}
	return encodeArray(elems), true, nil
}

func indexOf(members []member, key string) int {
	for i := range members {
		if members[i].key == key {
			return i
		}
	}
	return -1
}

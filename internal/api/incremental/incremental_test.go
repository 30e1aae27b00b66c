package incremental_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
)

func flag(b bool) *bool { return &b }

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestDeferred(t *testing.T) {
	t.Parallel()
	require.False(t, incremental.Deferred(nil))
	require.False(t, incremental.Deferred(&graphql.Response{Data: json.RawMessage(`{}`)}))
	require.True(t, incremental.Deferred(&graphql.Response{Data: json.RawMessage(`{}`), HasNext: flag(true)}))
}

func TestPayloads(t *testing.T) {
	t.Parallel()
	first := &graphql.Response{Data: json.RawMessage(`{"viewer":{"id":"1"}}`), HasNext: flag(true)}
	require.Equal(t, `{"data":{"viewer":{"id":"1"}},"hasNext":true}`, marshal(t, incremental.Initial(first)))

	labelled := &graphql.Response{
		Data: json.RawMessage(`{"name":"a"}`), Path: ast.Path{ast.PathName("viewer")},
		Label: "slow", HasNext: flag(true),
	}
	require.Equal(t,
		`{"incremental":[{"data":{"name":"a"},"path":["viewer"],"label":"slow"}],"hasNext":true}`,
		marshal(t, incremental.Subsequent(labelled)))

	failed := &graphql.Response{
		Data:    json.RawMessage(`null`),
		Errors:  gqlerror.List{{Message: "boom", Path: ast.Path{ast.PathName("list"), ast.PathIndex(2), ast.PathName("x")}}},
		HasNext: flag(false),
	}
	require.Equal(t,
		`{"incremental":[{"data":null,"path":[],"errors":[{"message":"boom","path":["list",2,"x"]}]}],"hasNext":false}`,
		marshal(t, incremental.Subsequent(failed)))

	require.Equal(t,
		`{"incremental":[{"data":{"name":"a"},"path":["viewer"],"label":"slow"},{"data":null,"path":[],"errors":[{"message":"boom","path":["list",2,"x"]}]}],"hasNext":false}`,
		marshal(t, incremental.Subsequent(labelled, failed)))
}

func TestMerge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		responses []*graphql.Response
		want      string
	}{
		{
			name: "fields added after the ones there, in order",
			responses: []*graphql.Response{
				{Data: json.RawMessage(`{"z":1,"viewer":{"id":"1","a":true}}`), HasNext: flag(true)},
				{Data: json.RawMessage(`{"b":2,"c":{"d":3}}`), Path: ast.Path{ast.PathName("viewer")}, HasNext: flag(true)},
				{Data: json.RawMessage(`{"root":"r"}`), Path: ast.Path{}, HasNext: flag(false)},
			},
			want: `{"data":{"z":1,"viewer":{"id":"1","a":true,"b":2,"c":{"d":3}},"root":"r"}}`,
		},
		{
			name: "a nested fragment that arrives before its parent's",
			responses: []*graphql.Response{
				{Data: json.RawMessage(`{"list":[{"id":"1"},{"id":"2"}]}`), HasNext: flag(true)},
				{Data: json.RawMessage(`{"y":"inner"}`), Path: ast.Path{ast.PathName("list"), ast.PathIndex(1), ast.PathName("b")}, HasNext: flag(true)},
				{Data: json.RawMessage(`{"b":{"x":"outer"}}`), Path: ast.Path{ast.PathName("list"), ast.PathIndex(1)}, HasNext: flag(false)},
			},
			want: `{"data":{"list":[{"id":"1"},{"id":"2","b":{"x":"outer","y":"inner"}}]}}`,
		},
		{
			name: "a failed fragment keeps its errors and adds no data",
			responses: []*graphql.Response{
				{Errors: gqlerror.List{{Message: "first"}}, Data: json.RawMessage(`{"viewer":null}`), HasNext: flag(true)},
				{Data: json.RawMessage(`{"a":1}`), Path: ast.Path{ast.PathName("viewer")}, Errors: gqlerror.List{{Message: "under null"}}, HasNext: flag(true)},
				{Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: "nulled"}}, HasNext: flag(true)},
				{Data: json.RawMessage(`{"a":1}`), Path: ast.Path{ast.PathName("gone")}, HasNext: flag(false)},
			},
			want: `{"errors":[{"message":"first"},{"message":"under null"},{"message":"nulled"}],"data":{"viewer":null}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			merged, err := incremental.Merge(tt.responses)
			require.NoError(t, err)
			require.Nil(t, merged.HasNext)
			require.Equal(t, tt.want, marshal(t, merged))
		})
	}

	_, err := incremental.Merge(nil)
	require.Error(t, err)
	_, err = incremental.Merge([]*graphql.Response{
		{Data: json.RawMessage(`{"viewer":"text"}`), HasNext: flag(true)},
		{Data: json.RawMessage(`{"a":1}`), Path: ast.Path{ast.PathName("viewer")}, HasNext: flag(false)},
	})
	require.Error(t, err, "a path that ends at a scalar is a bug in the sequence, not data to drop")
}

func TestNextStopsWaitingWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	blocked := func(context.Context) *graphql.Response {
		close(entered)
		<-release // as gqlgen's executor waits for a fragment that gave up
		return &graphql.Response{}
	}
	got := make(chan *graphql.Response, 1)
	go func() { got <- incremental.Next(ctx, blocked) }()
	<-entered
	cancel()
	select {
	case r := <-got:
		require.Nil(t, r)
	case <-time.After(10 * time.Second):
		t.Fatal("Next still waits after its context ended")
	}
}

func TestNextReturnsTheResponseAndRaisesPanics(t *testing.T) {
	t.Parallel()
	want := &graphql.Response{Label: "slow"}
	require.Same(t, want, incremental.Next(context.Background(), func(context.Context) *graphql.Response { return want }))

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	require.Nil(t, incremental.Next(ended, func(context.Context) *graphql.Response { return want }))

	require.PanicsWithValue(t, "boom", func() {
		incremental.Next(context.Background(), func(context.Context) *graphql.Response { panic("boom") })
	})
}

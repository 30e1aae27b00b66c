package graph

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
)

// TestResolveAsGqlgen: a field resolve resolves (an object, a list, a method's value
// with its error) is written as gqlgen's ResolveField writes it, with the same
// errors on the same paths, its children's included: the same with and without a
// field interceptor, which makes gqlgen's machinery resolve it.
func TestResolveAsGqlgen(t *testing.T) {
	t.Parallel()
	fields := func(names ...string) ast.SelectionSet {
		var sel ast.SelectionSet
		for _, n := range names {
			sel = append(sel, &ast.Field{Alias: n, Name: n})
		}
		return sel
	}
	cases := map[string]struct {
		field   func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler
		sel     ast.SelectionSet
		value   string
		errPath []string
	}{
		"an object": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._WebsiteAnalysis_readingLevel(ctx, f, &models.WebsiteAnalysis{ReadingLevel: models.ReadingLevel{FleschReadingEase: 61.5, Label: "plain"}})
			},
			sel:   fields("label", "fleschReadingEase"),
			value: `{"label":"plain","fleschReadingEase":61.5}`,
		},
		"an object whose child fails": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._WebsiteAnalysis_readingLevel(ctx, f, &models.WebsiteAnalysis{ReadingLevel: models.ReadingLevel{FleschReadingEase: math.NaN()}})
			},
			sel:     fields("label", "fleschReadingEase"),
			value:   `{"label":"","fleschReadingEase":null}`, // gqlgen finds NaN as it writes it
			errPath: []string{"parent.leaf.fleschReadingEase"},
		},
		"a nil object": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._WebsiteAnalysis_style(ctx, f, &models.WebsiteAnalysis{})
			},
			sel:   fields("tone"),
			value: `null`,
		},
		"a list": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._WebsiteAnalysis_headings(ctx, f, &models.WebsiteAnalysis{Headings: []models.Heading{{Level: 1, Text: "One"}, {Level: 2, Text: "Two"}}})
			},
			sel:   fields("text", "level"),
			value: `[{"text":"One","level":1},{"text":"Two","level":2}]`,
		},
		"a list of strings": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._ToneSignals_labels(ctx, f, &models.ToneSignals{Labels: []string{"warm", "say \"hi\""}})
			},
			value: `["warm","say \"hi\""]`,
		},
		"a method's value": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._ProviderKey_kind(ctx, f, &onboarding.KeyView{ProviderKey: &models.ProviderKey{Provider: "openai"}})
			},
			value: `"LLM"`,
		},
		"a method's error": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._ProviderKey_kind(ctx, f, &onboarding.KeyView{ProviderKey: &models.ProviderKey{Provider: "nobody"}})
			},
			value:   `null`,
			errPath: []string{"parent.leaf"},
		},
		"a panic": {
			field: func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				return ec._ProviderKey_kind(ctx, f, &onboarding.KeyView{}) // no key: a nil pointer
			},
			value:   `null`,
			errPath: []string{"parent.leaf"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			field := func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
				f.Selections = tc.sel
				return tc.field(ec, ctx, f)
			}
			wantValue, wantErrs, plain := writeLeaf(t, field, &leafCounter{})
			require.False(t, plain)
			value, errs, plain := writeLeaf(t, field)
			require.True(t, plain)
			require.Equal(t, wantValue, value)
			require.Equal(t, wantErrs, errs)
			require.Equal(t, tc.value, value)
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Path.String())
			}
			require.Equal(t, tc.errPath, paths)
		})
	}
}

// TestResolveAllocatesOnce: with no field interceptor a field resolve resolves
// allocates its context alone (its value here is nil), where gqlgen's ResolveField
// allocates its field context, context and closures. (Run alone: AllocsPerRun
// counts every goroutine's.)
func TestResolveAllocatesOnce(t *testing.T) { //nolint:paralleltest // see above
	analysis := &models.WebsiteAnalysis{}
	allocs := func(exts ...graphql.HandlerExtension) float64 {
		ctx, ec := leafOperation(t, exts...)
		field := graphql.CollectedField{Field: &ast.Field{Alias: "style", Name: "style"}}
		return testing.AllocsPerRun(100, func() { ec._WebsiteAnalysis_style(ctx, field, analysis) })
	}
	plain, intercepted := allocs(), allocs(&leafCounter{})
	require.Equal(t, 1.0, plain, "the field's context")
	require.Greater(t, intercepted, plain+3, "gqlgen's field machinery")
}

// TestResolveMarkedNonNullAsGqlgen: a resolver that marks its nullable field non-null
// (graphql.MarkNonNull) and fails nulls the field's parent (RequiredNull), with the
// same error, as gqlgen's ResolveField has it; unmarked, the field alone is null; a
// nil pointer is marshalled as any value is.
func TestResolveMarkedNonNullAsGqlgen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		mark  bool
		fails bool
	}{{"marked, failing", true, true}, {"marked, nil", true, false}, {"unmarked, failing", false, true}, {"unmarked, nil", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			value := func(ctx context.Context) (*models.ReadingLevel, error) {
				if tc.mark {
					graphql.MarkNonNull(ctx)
				}
				if tc.fails {
					return nil, errors.New("no reading level")
				}
				return nil, nil
			}
			marshal := func(_ context.Context, _ ast.SelectionSet, v *models.ReadingLevel) graphql.Marshaler {
				if v == nil {
					return graphql.Null
				}
				return graphql.MarshalString("a level")
			}
			run := func(ours bool) (graphql.Marshaler, []string) {
				ctx, ec := leafOperation(t)
				ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Alias: "parent", Name: "parent"}}})
				field := graphql.CollectedField{Field: &ast.Field{Alias: "level", Name: "level"}}
				var got graphql.Marshaler
				if ours {
					got = resolve(ctx, ec.OperationContext, field, plainField{object: "WebsiteAnalysis"}, value, marshal, true, false)
				} else {
					got = graphql.ResolveField(ctx, ec.OperationContext, field,
						func(_ context.Context, f graphql.CollectedField) (*graphql.FieldContext, error) {
							return &graphql.FieldContext{Object: "WebsiteAnalysis", Field: f}, nil
						},
						func(ctx context.Context) (any, error) { return value(ctx) }, nil, marshal, true, false)
				}
				var errs []string
				for _, e := range graphql.GetErrors(ctx) {
					errs = append(errs, e.Path.String()+": "+e.Message)
				}
				return got, errs
			}
			want, wantErrs := run(false)
			got, errs := run(true)
			// Null and RequiredNull are equal in content: compared as the values
			// gqlgen's executor tells apart.
			require.True(t, want == got, "gqlgen's %p, ours %p", want, got)
			require.Equal(t, wantErrs, errs)
			switch {
			case tc.mark && tc.fails:
				require.True(t, got == graphql.RequiredNull, "the parent nulled")
			case tc.fails:
				require.True(t, got == graphql.Null)
			default: // a nil pointer is a value, marshalled: null without an error
				require.True(t, got == graphql.Null)
				require.Empty(t, errs)
			}
			require.Equal(t, tc.fails, len(errs) == 1)
		})
	}
}

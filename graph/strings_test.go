package graph

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
)

// TestStringLeavesAsGqlgen: an object's plain string leaves, kept in its field set
// (setString), are written as gqlgen writes them through its field machinery (with a
// field interceptor installed): more of them than the set holds in itself, strings
// that JSON escapes, between fields of other kinds, aliased and asked for twice.
func TestStringLeavesAsGqlgen(t *testing.T) {
	t.Parallel()
	const query = `{ onboarding { websiteAnalysis {
		url finalUrl wordCount title description again: title language analyzedAt contentType title
	} } }`
	site := &models.WebsiteAnalysis{
		URL: "https://example.com/?q=\"quoted\"&x=<y>", FinalURL: "https://example.com/\u2028", Title: "Tab\there, newline\n, nul \x00",
		Description: "ünïcödé and \\ backslash", WordCount: 1234, Language: "en-GB", ContentType: "text/html; charset=utf-8",
		AnalyzedAt: time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC),
	}
	write := func(exts ...graphql.HandlerExtension) (string, bool) {
		exec := executor.New(NewExecutableSchema(Config{}))
		for _, e := range exts {
			exec.Use(e)
		}
		ctx := graphql.StartOperationTrace(context.Background())
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query})
		require.Empty(t, errs)
		ctx = graphql.WithResponseContext(graphql.WithOperationContext(ctx, oc), graphql.DefaultErrorPresenter, quietRecover)
		sel := oc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet
		ec := executionContextOf(oc)
		var out bytes.Buffer
		ec._WebsiteAnalysis(ctx, sel, site).MarshalGQL(&out)
		require.Empty(t, graphql.GetErrors(ctx))
		return out.String(), ec.plainLeaves()
	}
	want, plain := write(&leafCounter{})
	require.False(t, plain)
	got, plain := write()
	require.True(t, plain)
	require.Equal(t, want, got)
	require.Contains(t, got, `"again":"Tab\there, newline\n, nul \u0000"`)
}

// TestStringLeafPanicAsGqlgen: a string leaf promoted through a nil embedded pointer
// (a ProviderKey's view without its key) panics when read; the field is null with
// the panic as its error on its own path, and the object null, as gqlgen has it.
func TestStringLeafPanicAsGqlgen(t *testing.T) {
	t.Parallel()
	write := func(exts ...graphql.HandlerExtension) (string, []string, bool) {
		exec := executor.New(NewExecutableSchema(Config{}))
		exec.SetRecoverFunc(quietRecover)
		for _, e := range exts {
			exec.Use(e)
		}
		ctx := graphql.StartOperationTrace(context.Background())
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: `{ onboarding { providerKeys { provider masked } } }`})
		require.Empty(t, errs)
		ctx = graphql.WithResponseContext(graphql.WithOperationContext(ctx, oc), graphql.DefaultErrorPresenter, quietRecover)
		sel := oc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet
		ec := executionContextOf(oc)
		var out bytes.Buffer
		ec._ProviderKey(ctx, sel, &onboarding.KeyView{}).MarshalGQL(&out)
		var paths []string
		for _, err := range graphql.GetErrors(ctx) {
			paths = append(paths, err.Path.String()+": "+err.Message)
		}
		return out.String(), paths, ec.plainLeaves()
	}
	want, wantErrs, plain := write(&leafCounter{})
	require.False(t, plain)
	got, errs, plain := write()
	require.True(t, plain)
	require.Equal(t, want, got)
	require.Equal(t, wantErrs, errs)
	require.Equal(t, "null", got)
	require.Len(t, errs, 2, "provider's and masked's")
}

// TestStringMethodLeavesAsGqlgen: string leaves that are a method's value (a step's
// key and title) are kept in the field set too and written as gqlgen writes them; a
// method that panics (a step outside the wizard) makes the field null with its error
// on its path, and the object null, as gqlgen has it.
func TestStringMethodLeavesAsGqlgen(t *testing.T) {
	t.Parallel()
	write := func(step *models.OnboardingStep, exts ...graphql.HandlerExtension) (string, []string, bool) {
		exec := executor.New(NewExecutableSchema(Config{}))
		exec.SetRecoverFunc(quietRecover)
		for _, e := range exts {
			exec.Use(e)
		}
		ctx := graphql.StartOperationTrace(context.Background())
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: `{ onboarding { progress { steps { step key title again: key status } } } }`})
		require.Empty(t, errs)
		ctx = graphql.WithResponseContext(graphql.WithOperationContext(ctx, oc), graphql.DefaultErrorPresenter, quietRecover)
		steps := oc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
		ec := executionContextOf(oc)
		var out bytes.Buffer
		ec._OnboardingStep(ctx, steps.SelectionSet, step).MarshalGQL(&out)
		var paths []string
		for _, err := range graphql.GetErrors(ctx) {
			paths = append(paths, err.Path.String()+": "+err.Message)
		}
		return out.String(), paths, ec.plainLeaves()
	}
	for _, step := range []*models.OnboardingStep{{Step: 2, Status: "COMPLETED"}, {Step: 0}} {
		want, wantErrs, plain := write(step, &leafCounter{})
		require.False(t, plain)
		got, errs, plain := write(step)
		require.True(t, plain)
		require.Equal(t, want, got)
		require.Equal(t, wantErrs, errs)
		if step.Step == 2 {
			require.Contains(t, got, `"key":"WEBSITE","title":"Website analysis or business information","again":"WEBSITE"`)
			require.Empty(t, errs)
		} else {
			require.Equal(t, "null", got)
			require.NotEmpty(t, errs)
		}
	}
}

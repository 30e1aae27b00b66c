package graph

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSchemaParsedOnce: the schema is parsed once, whoever asks first (PrepareSchema's
// goroutine or a caller of Schema), and every caller gets that one.
func TestSchemaParsedOnce(t *testing.T) {
	t.Parallel()
	PrepareSchema()
	got := make([]any, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = NewExecutableSchema(Config{}).Schema() })
	}
	wg.Wait()
	for _, s := range got {
		require.Same(t, parsedSchema(), s)
	}
	require.NotNil(t, parsedSchema().Query, "a parsed schema")
	require.NotNil(t, parsedSchema().Types["Onboarding"])
}

package versitygw_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/versitygw"
)

func TestTwoServersAtOnce(t *testing.T) {
	t.Parallel()
	a, b := versitygw.Start(t), versitygw.Start(t)
	require.True(t, strings.HasPrefix(a.URL, "http://127.0.0.1:"), a.URL)
	require.NotEqual(t, a.URL, b.URL)
	require.NotEqual(t, a.Dir, b.Dir)
}

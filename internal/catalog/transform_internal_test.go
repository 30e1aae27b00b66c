package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

func TestTransform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, transform, in, want string
	}{
		{"trim", TransformTrim, "  \n hello world \n\n", "hello world"},
		{"first paragraph", TransformFirstParagraph, "\n\nFirst line\nsecond line  \n\nNext paragraph", "First line\nsecond line"},
		{"bullets of every kind", TransformBullets, "Here you go:\n- one\n* two\n• three\n4. four\n5) five\nThanks!", "- one\n- two\n- three\n- four\n- five"},
		{"bullets without a list", TransformBullets, "first\n\nsecond\n", "- first\n- second"},
		{"json in a fence", TransformJSON, "Sure:\n```json\n{\"title\":\"Pay\",\"tags\":[1,2]}\n```", "{\n  \"title\": \"Pay\",\n  \"tags\": [\n    1,\n    2\n  ]\n}"},
		{"json after a false start", TransformJSON, "[see below] {\"a\": true}", "{\n  \"a\": true\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Transform(tt.transform, tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	_, err := Transform(TransformJSON, "no json here {oops")
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
}

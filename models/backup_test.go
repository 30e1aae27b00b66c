package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 bytes", 1023: "1023 bytes", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 30: "5.0 GiB", 50 << 30: "50.0 GiB", 3 << 40: "3.0 TiB",
	} {
		require.Equal(t, want, models.FormatBytes(n), "%d", n)
	}
}

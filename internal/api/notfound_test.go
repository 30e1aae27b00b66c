package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestUnknownIDsAnswerNotFoundWithTheirArgument: an ID of the right shape that names
// nothing of the caller's is NOT_FOUND, with extensions.field naming the argument it
// came in, whatever the area.
func TestUnknownIDsAnswerNotFoundWithTheirArgument(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, withoutRateLimits)
	access, _, _ := a.register(t, "not-found@example.com")
	const unknownBackup = "0b6f2f0e-6c1d-4c2e-9a57-3f0c1b2a9d11"
	for _, tc := range []struct{ query, field string }{
		{`{ backupDownloadUrl(id: "` + unknownBackup + `") { url } }`, "id"},
		{`mutation { completeBackupUpload(id: "` + unknownBackup + `") { id } }`, "id"},
		{`mutation { deleteBackup(id: "` + unknownBackup + `") { id } }`, "id"},
		{`{ playbook(id: "no-such-playbook") { id } }`, "id"},
	} {
		_, errs := a.do(t, access, tc.query, nil)
		require.Len(t, errs, 1, tc.query)
		require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"], tc.query)
		require.Equal(t, tc.field, errs[0].Extensions["field"], tc.query)
	}
}

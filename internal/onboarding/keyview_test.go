package onboarding_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
)

func TestKeyView(t *testing.T) {
	t.Parallel()
	key := func(provider string, formatValid bool, status models.KeyStatus) *models.ProviderKey {
		return &models.ProviderKey{Provider: provider, FormatValid: formatValid, Status: status, Masked: "sk-…abcd"}
	}
	keys := []*models.ProviderKey{
		key("openai", true, models.KeyFormatOK),
		key("tavily", true, models.KeyVerified),
		key("mistral", false, models.KeyInvalid),
	}
	for _, live := range []bool{false, true} {
		views := onboarding.ViewKeys(keys, live)
		require.Len(t, views, len(keys))
		for i, v := range views {
			require.Same(t, keys[i], v.ProviderKey, "the stored key, not a copy")
			require.Equal(t, keys[i].Validated(live), v.Validated(), "live=%v %s", live, keys[i].Provider)
			require.Equal(t, v.Validated(), onboarding.ViewKey(keys[i], live).Validated())
		}
		require.Equal(t, !live, views[0].Validated(), "a format-checked key counts only without live checks")
	}

	kind, err := onboarding.ViewKey(keys[0], false).Kind()
	require.NoError(t, err)
	require.Equal(t, models.ProviderLLM, kind)
	kind, err = onboarding.ViewKey(keys[1], false).Kind()
	require.NoError(t, err)
	require.NotEqual(t, models.ProviderLLM, kind, "tavily is a research provider")

	_, err = onboarding.ViewKey(key("acme", true, models.KeyFormatOK), false).Kind()
	require.Equal(t, models.CodeInternal, models.ErrorCode(err), "a stored key of a provider no longer in the catalogue")
	require.Contains(t, err.Error(), `"acme"`)

	require.Nil(t, onboarding.ViewKey(nil, true), "no key, no view (a failed save)")
	require.Empty(t, onboarding.ViewKeys(nil, true))
}

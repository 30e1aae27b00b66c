package onboarding

import (
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/models"
)

// KeyView is a provider key as the API shows it (GraphQL's ProviderKey): the stored
// key with its provider's kind and whether it counts as validated. Both are methods
// without a context, so gqlgen resolves them in line with the key's other fields
// rather than as resolvers on goroutines of their own (two per key of a summary).
type KeyView struct {
	*models.ProviderKey
	live bool // whether keys are checked live (Service.LiveKeyCheck)
}

// ViewKey is k as the API shows it, with live the service's LiveKeyChecks.
func ViewKey(k *models.ProviderKey, live bool) *KeyView {
	if k == nil {
		return nil
	}
	return &KeyView{ProviderKey: k, live: live}
}

// ViewKeys is ViewKey of each key, in one allocation for the views.
func ViewKeys(keys []*models.ProviderKey, live bool) []*KeyView {
	views := make([]KeyView, len(keys))
	out := make([]*KeyView, len(keys))
	for i, k := range keys {
		views[i] = KeyView{ProviderKey: k, live: live}
		out[i] = &views[i]
	}
	return out
}

// Kind is the key's provider's kind; an INTERNAL error for a stored key of a
// provider the catalogue no longer has.
func (k *KeyView) Kind() (models.ProviderKind, error) {
	p, err := providers.Lookup(k.Provider)
	if err != nil {
		return "", models.Internal(err, "stored key of unknown provider %q", k.Provider)
	}
	return p.Kind, nil
}

// Validated reports whether the key counts as a working key (models.ProviderKey.Validated).
func (k *KeyView) Validated() bool { return k.ProviderKey.Validated(k.live) }

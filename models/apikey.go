package models

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Scope is what an API key may do. A session (a signed-in browser or app) may do
// everything; a key only what its scopes name, and never billing or account changes.
type Scope string

const (
	// ScopeRead reads the account's data: the summary, personas, playbooks, usage.
	ScopeRead Scope = "READ"
	// ScopeChat runs chats and reads, renames and deletes stored conversations.
	ScopeChat Scope = "CHAT"
	// ScopePlaybooks runs playbooks and templates.
	ScopePlaybooks Scope = "PLAYBOOKS"
	// ScopeBackups creates, lists, downloads and deletes backups.
	ScopeBackups Scope = "BACKUPS"
)

// Scopes lists every scope, in the order they are shown.
func Scopes() []Scope { return []Scope{ScopeRead, ScopeChat, ScopePlaybooks, ScopeBackups} }

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes(), s) }

// APIKey is a key for scripts: stored as the SHA-256 of the key and its first
// characters (Prefix) to tell keys apart; the key itself is shown once, at creation.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id,notnull"`
	Name       string     `bun:"name,notnull"`
	Prefix     string     `bun:"prefix,notnull"`
	KeyHash    string     `bun:"key_hash,notnull"`
	Scopes     ScopeSet   `bun:"scopes,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// ScopeList is the key's scopes as a plain list (what GraphQL binds to).
func (k *APIKey) ScopeList() []Scope { return k.Scopes }

// Identity links an external identity provider's subject to a user.
type Identity struct {
	bun.BaseModel `bun:"table:user_identities"`

	Issuer    string    `bun:"issuer,pk"`
	Subject   string    `bun:"subject,pk"`
	UserID    string    `bun:"user_id,notnull"`
	Email     string    `bun:"email,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// ScopeSet is a set of scopes, stored as their names joined by commas in the order
// Scopes lists them.
type ScopeSet []Scope

// NewScopeSet returns the known scopes among scopes in canonical order, without
// repeats; callers check Valid first to refuse unknown ones.
func NewScopeSet(scopes []Scope) ScopeSet {
	set := ScopeSet{}
	for _, s := range Scopes() {
		if slices.Contains(scopes, s) {
			set = append(set, s)
		}
	}
	return set
}

// Has reports whether the set holds s.
func (ss ScopeSet) Has(s Scope) bool { return slices.Contains(ss, s) }

// Value stores the set as text.
func (ss ScopeSet) Value() (driver.Value, error) {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ","), nil
}

// Scan reads the set from its text.
func (ss *ScopeSet) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	case nil:
	default:
		return fmt.Errorf("scopes: cannot scan %T", src)
	}
	*ss = ScopeSet{}
	for name := range strings.SplitSeq(text, ",") {
		if name != "" {
			*ss = append(*ss, Scope(name))
		}
	}
	return nil
}

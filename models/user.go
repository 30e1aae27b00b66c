package models

import (
	"time"

	"github.com/uptrace/bun"
)

// User is an account. IDs are text UUIDv7, so external identity providers' string IDs fit too.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           string `bun:"id,pk"`
	Email        string `bun:"email,notnull"`
	PasswordHash string `bun:"password_hash,notnull"`
	Tier         Tier   `bun:"tier,notnull"`
	// Kind is UserPerson for a person; a team's shared space (UserTeamSpace) is a row
	// with the team's ID that nobody signs in as.
	Kind      UserKind  `bun:"kind,notnull,default:'person'"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// UserKind says whether a users row is a person or a team's shared space.
type UserKind string

// The kinds of users row.
const (
	UserPerson    UserKind = "person"
	UserTeamSpace UserKind = "team"
)

// Session is one signed-in device: a family of refresh tokens, each replacing the last.
// Revoking the session ends the whole family.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID           string     `bun:"id,pk"`
	UserID       string     `bun:"user_id,notnull"`
	UserAgent    string     `bun:"user_agent,notnull"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	LastUsedAt   time.Time  `bun:"last_used_at,notnull"`
	RevokedAt    *time.Time `bun:"revoked_at"`
	RevokeReason string     `bun:"revoke_reason,notnull"`
	// Method is how the session signed in.
	Method SignInMethod `bun:"method,notnull"`
	// ClientNetwork is the client's address at sign-in masked to its network
	// (IPv4 /24, IPv6 /48), so a user can tell their devices apart without the
	// server keeping whole addresses; "" when unknown.
	ClientNetwork string `bun:"client_network,notnull"`
	// Current is true in a listing for the session that asked (not stored).
	Current bool `bun:"-"`
}

// SignInMethod is how a session signed in.
type SignInMethod string

const (
	SignInPassword SignInMethod = "PASSWORD"
	SignInOIDC     SignInMethod = "OIDC"
)

// RefreshToken is one refresh token of a session, stored only as its SHA-256.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	ID        string     `bun:"id,pk"`
	SessionID string     `bun:"session_id,notnull"`
	UserID    string     `bun:"user_id,notnull"`
	TokenHash string     `bun:"token_hash,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
}

// AuthPayload is what signing in, registering and refreshing return.
type AuthPayload struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	User         *User
}

// RevocationReason says why a session ended.
type RevocationReason string

const (
	RevokedByLogout     RevocationReason = "LOGOUT"
	RevokedByTokenReuse RevocationReason = "TOKEN_REUSE"
	// RevokedByUser: the user ended it from their list of sessions.
	RevokedByUser RevocationReason = "USER_REVOKED"
	// RevokedByAccountLinked: an identity provider was linked to the account by its
	// email, which ends every session and API key it had before.
	RevokedByAccountLinked RevocationReason = "ACCOUNT_LINKED"
)

// AccountEventType tells apart what accountEvents reports.
type AccountEventType string

const (
	AccountEventSessionRevoked AccountEventType = "SESSION_REVOKED"
	// AccountEventSessionExpiring warns a subscription that its access token expires
	// soon; it goes to that subscription only and is never published.
	AccountEventSessionExpiring AccountEventType = "SESSION_EXPIRING"
)

// AccountEvent tells a signed-in client that something happened to its account.
type AccountEvent struct {
	Type      AccountEventType `json:"type"`
	SessionID string           `json:"sessionId"`
	// Reason is why a session ended; nil for SESSION_EXPIRING.
	Reason *RevocationReason `json:"reason,omitempty"`
	// ExpiresAt is when the subscription's access token expires (SESSION_EXPIRING).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// CurrentSession is true when the revoked session is the one that subscribed;
	// it is filled in per subscriber, not published.
	CurrentSession bool      `json:"-"`
	OccurredAt     time.Time `json:"occurredAt"`
}

// LogoutPayload reports the session a logout ended.
type LogoutPayload struct {
	SessionID string
	RevokedAt time.Time
}

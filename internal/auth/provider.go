package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/models"
)

// IdentityProviders returns the configured external identity providers (issuer and
// client ID: what a frontend needs to start their sign-in, nothing secret).
func (s *Service) IdentityProviders() []oidc.Provider {
	if s.cfg.Providers == nil {
		return []oidc.Provider{}
	}
	return s.cfg.Providers.Providers()
}

// errIdentityTaken is insertIdentity's answer when a concurrent first sign-in of the
// same identity committed first.
var errIdentityTaken = errors.New("the identity is linked already")

// SignInWithProvider signs in with an ID token of a configured identity provider
// (chosen by the token's issuer). The provider's subject maps to an Inkgraph user:
// on first sight a new account with the token's email, or, when LinkByEmail is set,
// the account that has that email. A first sight whose token has no email, or an
// email the provider has not verified, is refused with BAD_USER_INPUT before any
// account is looked up, so the answer never tells whether the email has an account.
// With linking off, an email that has an account is refused with CONFLICT and
// nothing is created. A token the verifier refuses gets UNAUTHENTICATED saying why;
// the attempt spends the client address's sign-in budget as Login does.
//
// Linking by email takes the account over for the provider: Register does not prove
// the address is the registrant's, so whoever registered it first may not be its
// owner. The account's password is cleared and its sessions and API keys are ended,
// in the transaction that links it.
//
// The account it creates has no password (an empty hash, which no password matches:
// see hasher.matches), so only the provider signs it in.
func (s *Service) SignInWithProvider(ctx context.Context, idToken, userAgent string) (*models.AuthPayload, error) {
	if strings.TrimSpace(idToken) == "" {
		return nil, models.InvalidInput("idToken", "idToken is required")
	}
	if s.cfg.Providers == nil || len(s.cfg.Providers.Providers()) == 0 {
		return nil, &models.Error{Code: models.CodeUnauthenticated, Field: "idToken", Message: "no identity provider is configured on this server"}
	}
	if err := s.spendAttempt(ctx, ipAttemptKey(ctx), s.cfg.LoginLimitPerIP, tooManyFromAddress); err != nil {
		return nil, err
	}
	claims, err := s.cfg.Providers.Verify(ctx, idToken)
	switch {
	case errors.Is(err, oidc.ErrInvalidToken):
		return nil, &models.Error{Code: models.CodeUnauthenticated, Field: "idToken", Message: err.Error()}
	case err != nil:
		return nil, &models.Error{
			Code: models.CodeUpstreamUnavailable, Field: "idToken", RetryAfter: oidc.DefaultRefetchCooldown, Err: err,
			Message: "the identity provider cannot be reached to check the token: try again later",
		}
	}
	res, err := s.providerSession(ctx, claims, userAgent)
	if errors.Is(err, errIdentityTaken) || errors.Is(err, errEmailTaken) {
		// A concurrent first sign-in of the same identity committed first: now it is known.
		res, err = s.providerSession(ctx, claims, userAgent)
	}
	if err != nil {
		return nil, err
	}
	userID := res.payload.User.ID
	if res.how == linkedByEmail {
		for _, id := range res.endedSessions {
			s.ended(ctx, userID, id, models.RevokedByAccountLinked, res.at)
		}
		for _, id := range res.endedKeys {
			s.propagateRevocation(ctx, userID, apiKeyRevocationID(id), res.at)
		}
		s.audit(ctx, userID, models.AuditLogin, models.AuditDetail{
			"via": "identity provider", "issuer": claims.Issuer,
			"event":    "linked identity provider; password, sessions and API keys ended",
			"sessions": fmt.Sprint(len(res.endedSessions)), "apiKeys": fmt.Sprint(len(res.endedKeys)),
		})
	}
	s.audit(ctx, userID, models.AuditLogin, models.AuditDetail{
		"via": "identity provider", "issuer": claims.Issuer, "account": res.how,
		"userAgent": truncate(userAgent, 200),
	})
	return res.payload, nil
}

// linkedByEmail is providerSession's how for an identity linked to the account with
// its email.
const linkedByEmail = "linked by email"

// providerSignIn is what providerSession did: the session, how it found the user,
// and, for an account linked by email, the sessions and API keys it ended at at.
type providerSignIn struct {
	payload       *models.AuthPayload
	how           string
	endedSessions []string
	endedKeys     []string
	at            time.Time
}

// providerSession finds or makes the user of claims' identity and starts a session,
// in one transaction; how says which ("existing", "created" or "linked by email").
// An account linked by email loses its password, sessions and API keys in it.
func (s *Service) providerSession(ctx context.Context, claims *oidc.Claims, userAgent string) (*providerSignIn, error) {
	res := &providerSignIn{how: "existing"}
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var user *models.User
		ident, err := findIdentity(ctx, tx, claims.Issuer, claims.Subject)
		switch {
		case err == nil:
			if user, err = findUserByID(ctx, tx, ident.UserID); err != nil {
				return err
			}
		case models.ErrorCode(err) == models.CodeNotFound:
			if user, res.how, err = s.firstSight(ctx, tx, claims); err != nil {
				return err
			}
		default:
			return err
		}
		if res.how == linkedByEmail {
			res.at = s.now()
			if res.endedSessions, res.endedKeys, err = takeOver(ctx, tx, user.ID, res.at); err != nil {
				return err
			}
		}
		res.payload, err = s.startSession(ctx, tx, user, userAgent, models.SignInOIDC)
		return err
	})
	return res, err
}

// takeOver ends every other way into userID's account: it clears the password (an
// empty hash matches none) and revokes the live sessions and API keys, returning
// the IDs of those it ended.
func takeOver(ctx context.Context, db bun.IDB, userID string, at time.Time) (sessions, keys []string, err error) {
	_, err = db.NewUpdate().Model((*models.User)(nil)).
		Set("password_hash = ''").Set("updated_at = ?", at).
		Where("id = ?", userID).
		Exec(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("clear password: %w", err)
	}
	if sessions, err = revokeSessionsExcept(ctx, db, userID, "", at, models.RevokedByAccountLinked); err != nil {
		return nil, nil, err
	}
	live, err := findAPIKeys(ctx, db, userID)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range live {
		ok, err := revokeAPIKey(ctx, db, userID, k.ID, at)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			keys = append(keys, k.ID)
		}
	}
	return sessions, keys, nil
}

// firstSight gives an identity seen for the first time its user: the account with
// its email when linking is on, else a new account. It refuses a token without an
// email, or with one the provider has not verified, before looking the email up:
// the same answer whether or not an account has it, so the refusal is no oracle of
// which emails have accounts. (An unverified address would also hold the email
// against its owner, who could then neither register nor link.)
func (s *Service) firstSight(ctx context.Context, tx bun.IDB, claims *oidc.Claims) (*models.User, string, error) {
	if claims.Email == "" {
		return nil, "", &models.Error{Code: models.CodeBadUserInput, Field: "idToken",
			Message: "the ID token carries no email address, which an account needs: ask the provider for the email scope"}
	}
	if !claims.EmailVerified {
		return nil, "", &models.Error{Code: models.CodeBadUserInput, Field: "idToken",
			Message: "the identity provider has not verified this email address: verify it there first"}
	}
	email, err := NormalizeEmail(claims.Email)
	if err != nil {
		return nil, "", &models.Error{Code: models.CodeBadUserInput, Field: "idToken",
			Message: "the ID token's email is not an email address this server accepts"}
	}
	now := s.now()
	existing, err := findUserByEmail(ctx, tx, email)
	switch {
	case err == nil:
		if !s.cfg.LinkByEmail {
			return nil, "", &models.Error{Code: models.CodeConflict, Field: "idToken",
				Message: "an account with this email already exists: sign in to it with its password"}
		}
		if err := insertIdentity(ctx, tx, identityOf(claims, existing.ID, email, now)); err != nil {
			return nil, "", err
		}
		return existing, linkedByEmail, nil
	case models.ErrorCode(err) != models.CodeNotFound:
		return nil, "", err
	}
	id, err := newID()
	if err != nil {
		return nil, "", models.Internal(err, "new user id")
	}
	// No password: an empty hash matches none (hasher.matches).
	user := &models.User{ID: id, Email: email, PasswordHash: "", Tier: models.TierFree, CreatedAt: now, UpdatedAt: now}
	if err := insertUser(ctx, tx, user); err != nil {
		return nil, "", err
	}
	if err := insertIdentity(ctx, tx, identityOf(claims, user.ID, email, now)); err != nil {
		return nil, "", err
	}
	return user, "created", nil
}

func identityOf(claims *oidc.Claims, userID, email string, at time.Time) *models.Identity {
	return &models.Identity{Issuer: claims.Issuer, Subject: claims.Subject, UserID: userID, Email: email, CreatedAt: at}
}

// findIdentity looks an identity up by its provider and subject: the user is not
// known yet, the identity is what identifies them.
func findIdentity(ctx context.Context, db bun.IDB, issuer, subject string) (*models.Identity, error) {
	ident := new(models.Identity)
	err := db.NewSelect().Model(ident).Where("issuer = ? AND subject = ?", issuer, subject).Scan(ctx)
	return ident, database.NotFound(err, "identity")
}

func insertIdentity(ctx context.Context, db bun.IDB, ident *models.Identity) error {
	if _, err := db.NewInsert().Model(ident).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return fmt.Errorf("insert identity: %w: %w", errIdentityTaken, err)
		}
		return fmt.Errorf("insert identity: %w", err)
	}
	return nil
}

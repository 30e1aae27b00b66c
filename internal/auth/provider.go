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
// on first sight a new account with the token's email, or, when LinkByEmail is set
// and the provider says the email is verified, the account that has that email.
// Otherwise an email that has an account is refused with CONFLICT and nothing is
// created. A token the verifier refuses gets UNAUTHENTICATED saying why; the attempt
// spends the client address's sign-in budget as Login does.
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
	payload, how, err := s.providerSession(ctx, claims, userAgent)
	if errors.Is(err, errIdentityTaken) || errors.Is(err, errEmailTaken) {
		// A concurrent first sign-in of the same identity committed first: now it is known.
		payload, how, err = s.providerSession(ctx, claims, userAgent)
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, payload.User.ID, models.AuditLogin, models.AuditDetail{
		"via": "identity provider", "issuer": claims.Issuer, "account": how,
		"userAgent": truncate(userAgent, 200),
	})
	return payload, nil
}

// providerSession finds or makes the user of claims' identity and starts a session,
// in one transaction; how says which ("existing", "created" or "linked by email").
func (s *Service) providerSession(ctx context.Context, claims *oidc.Claims, userAgent string) (*models.AuthPayload, string, error) {
	var payload *models.AuthPayload
	how := "existing"
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var user *models.User
		ident, err := findIdentity(ctx, tx, claims.Issuer, claims.Subject)
		switch {
		case err == nil:
			if user, err = findUserByID(ctx, tx, ident.UserID); err != nil {
				return err
			}
		case models.ErrorCode(err) == models.CodeNotFound:
			if user, how, err = s.firstSight(ctx, tx, claims); err != nil {
				return err
			}
		default:
			return err
		}
		payload, err = s.startSession(ctx, tx, user, userAgent, models.SignInOIDC)
		return err
	})
	return payload, how, err
}

// firstSight gives an identity seen for the first time its user: the account with
// its verified email when linking is on, else a new account.
func (s *Service) firstSight(ctx context.Context, tx bun.IDB, claims *oidc.Claims) (*models.User, string, error) {
	if claims.Email == "" {
		return nil, "", &models.Error{Code: models.CodeBadUserInput, Field: "idToken",
			Message: "the ID token carries no email address, which an account needs: ask the provider for the email scope"}
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
		if !s.cfg.LinkByEmail || !claims.EmailVerified {
			return nil, "", &models.Error{Code: models.CodeConflict, Field: "idToken",
				Message: "an account with this email already exists: sign in to it with its password"}
		}
		if err := insertIdentity(ctx, tx, identityOf(claims, existing.ID, email, now)); err != nil {
			return nil, "", err
		}
		return existing, "linked by email", nil
	case models.ErrorCode(err) != models.CodeNotFound:
		return nil, "", err
	}
	// An address the provider has not verified would hold the email against its
	// owner, who could then neither register nor link: refuse it.
	if !claims.EmailVerified {
		return nil, "", &models.Error{Code: models.CodeBadUserInput, Field: "idToken",
			Message: "the identity provider has not verified this email address: verify it there first"}
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

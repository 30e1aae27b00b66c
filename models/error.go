package models

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They reach clients as extensions.code; the presenter in
// resolvers/errors.go is the only place that turns an error into what a client sees.
const (
	CodeUnauthenticated      = "UNAUTHENTICATED"
	CodeForbidden            = "FORBIDDEN"
	CodeBadUserInput         = "BAD_USER_INPUT"
	CodeNotFound             = "NOT_FOUND"
	CodeConflict             = "CONFLICT"
	CodeRateLimited          = "RATE_LIMITED"
	CodeQuotaExceeded        = "QUOTA_EXCEEDED"
	CodePaymentRequired      = "PAYMENT_REQUIRED"
	CodeBillingNotConfigured = "BILLING_NOT_CONFIGURED"
	CodeUpstreamUnavailable  = "UPSTREAM_UNAVAILABLE"
	// CodeKeyUnreadable: a stored provider key cannot be opened (field provider); the
	// user enters it again.
	CodeKeyUnreadable = "KEY_UNREADABLE"
	// CodeQueryTooLarge: the document's shape passes a limit that keeps validating it
	// cheap (fields in a selection set, selections, aliases, ...); extensions name the
	// measure, the count and the limit.
	CodeQueryTooLarge = "QUERY_TOO_LARGE"
	// CodeIntrospectionDisabled: the document reads the schema (__schema, __type) and
	// this server (production) does not answer that.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
	// CodeServiceUnavailable: a dependency of the server (its database, Redis, the
	// blob store) cannot be reached: an outage, not a bug; retry after extensions.retryAfter.
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	CodeInternal           = "INTERNAL"
)

// Error is the application's error: a code a client can act on, a message a person
// can read, and optionally the input field it concerns. Err, when set, is the cause:
// it is logged, never shown.
type Error struct {
	Code       string
	Message    string
	Field      string        // input field the error concerns, e.g. "email"
	RetryAfter time.Duration // for RATE_LIMITED, SERVICE_UNAVAILABLE and an unreachable upstream
	Quota      *Quota        // for QUOTA_EXCEEDED: used (with what was asked for) and limit
	Seats      *SeatCount    // for PAYMENT_REQUIRED about a team's seats: used and paid
	Err        error
}

func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidInput returns a BAD_USER_INPUT error about one input field.
func InvalidInput(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure: clients see only INTERNAL and a request ID.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of err: "" for nil, INTERNAL for anything that is not an *Error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the human-readable message of err; a generic one for errors
// that are not an *Error, whose text may hold internals.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}

package casegate

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is a machine-readable reason, sent to API clients as the problem's code.
type ErrorCode string

// The error codes. web maps each to one HTTP status in one table.
const (
	EInvalid         ErrorCode = "invalid_request"   // field errors or a malformed body
	ETooLarge        ErrorCode = "request_too_large" // body over the limit
	ECodeMalformed   ErrorCode = "code_malformed"    // wrong length, bad symbol or check failure; no attempt used
	ECodeIncorrect   ErrorCode = "code_incorrect"    // wrong code, attempts remain
	ECodeExpired     ErrorCode = "code_expired"      // the challenge expired or is unknown
	ECodeUsed        ErrorCode = "code_used"         // the code was already redeemed
	ETooManyAttempts ErrorCode = "too_many_attempts" // the challenge is dead
	EResendTooSoon   ErrorCode = "resend_too_soon"   // cooldown not over
	ERateLimited     ErrorCode = "rate_limited"      // a request limit was reached
	EUnauthenticated ErrorCode = "unauthenticated"   // no valid session or token
	EReauthRequired  ErrorCode = "reauthentication_required"
	ENotFound        ErrorCode = "not_found"
	EConflict        ErrorCode = "conflict"
	EUnavailable     ErrorCode = "unavailable" // a dependency is down; try again
	EInternal        ErrorCode = "internal"
)

// Error is the one error type that crosses package lines with a code and a
// message fit for the person who caused it.
type Error struct {
	Code    ErrorCode
	Message string            // plain language, safe to show
	Fields  map[string]string // per-field messages for EInvalid

	AttemptsRemaining int           // for ECodeIncorrect
	RetryAfter        time.Duration // for rate limits and resend cooldowns
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors returns an EInvalid error with per-field messages.
func FieldErrors(fields map[string]string) *Error {
	return &Error{Code: EInvalid, Message: "Some of the information is not in the right form.", Fields: fields}
}

// ErrNotFound is returned by stores when a row does not exist.
var ErrNotFound = &Error{Code: ENotFound, Message: "Not found."}

// ErrorCodeOf returns the code of the first *Error in err's chain, or EInternal.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err says a thing does not exist.
func IsNotFound(err error) bool { return ErrorCodeOf(err) == ENotFound }

package casegate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/casegate/casegate/catalog"
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
	ECrossOrigin     ErrorCode = "cross_origin" // a state change sent from another site
	ENotFound        ErrorCode = "not_found"
	EConflict        ErrorCode = "conflict"
	EUnavailable     ErrorCode = "unavailable" // a dependency is down; try again
	EInternal        ErrorCode = "internal"
)

// Msg is a message for a person by its key in the catalog, which holds its
// text in every language. Args fill the message's {{.Name}}s; an int
// "Count" also picks its plural form.
type Msg struct {
	Key  string
	Args map[string]any
}

// M returns the message key with args given as name, value pairs.
func M(key string, kv ...any) Msg {
	m := Msg{Key: key}
	for i := 0; i+1 < len(kv); i += 2 {
		if m.Args == nil {
			m.Args = map[string]any{}
		}
		m.Args[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

// English is m in the catalog's reference language, for logs and the
// command line.
func (m Msg) English() string { return catalog.English(m.Key, m.Args) }

// Error is the one error type that crosses package lines with a code and a
// message fit for the person who caused it.
type Error struct {
	Code   ErrorCode
	Msg    Msg            // what to tell the person, by key
	Fields map[string]Msg // per-field messages for EInvalid

	// Message is English for operators only (an import line's reasons, a
	// uniqueness conflict), for errors without a Msg. Pages never show it.
	Message string

	AttemptsRemaining int           // for ECodeIncorrect
	RetryAfter        time.Duration // for rate limits and resend cooldowns
}

func (e *Error) Error() string {
	text := e.Text()
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, text)
	}
	var fields []string
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		fields = append(fields, k+": "+e.Fields[k].English())
	}
	return fmt.Sprintf("%s: %s [%s]", e.Code, text, strings.Join(fields, "; "))
}

// Text is the error's message in English, for operators: its Msg when it
// has one, else its Message.
func (e *Error) Text() string {
	if e.Msg.Key != "" {
		return e.Msg.English()
	}
	return e.Message
}

// NewError returns an *Error with code and the message key, its args as
// name, value pairs.
func NewError(code ErrorCode, key string, kv ...any) *Error {
	return &Error{Code: code, Msg: M(key, kv...)}
}

// Errorf returns an *Error with code and a formatted English message for
// operators (see Error.Message).
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors returns an EInvalid error with per-field messages.
func FieldErrors(fields map[string]Msg) *Error {
	return &Error{Code: EInvalid, Msg: M("error.invalid"), Fields: fields}
}

// FieldError returns an EInvalid error with the message key on one field.
func FieldError(field, key string, kv ...any) *Error {
	return FieldErrors(map[string]Msg{field: M(key, kv...)})
}

// ErrNotFound is returned by stores when a row does not exist.
var ErrNotFound = NewError(ENotFound, "error.not_found")

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

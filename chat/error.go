package chat

import (
	"errors"
	"fmt"
)

// Application error codes. They describe what went wrong in terms a client
// understands; chat/web maps each code to one HTTP status, chat/realtime to
// an acknowledgement.
const (
	ECONFLICT     = "conflict"     // the thing already exists (a taken username)
	EFORBIDDEN    = "forbidden"    // the request is not allowed (a bad CSRF token)
	EINTERNAL     = "internal"     // a bug or an unavailable dependency
	EINVALID      = "invalid"      // the input breaks a rule
	ENOTFOUND     = "not_found"    // the thing does not exist
	ERATELIMIT    = "rate_limit"   // too many attempts; try again later
	EUNAUTHORIZED = "unauthorized" // not logged in, or wrong credentials
)

// Error is an application error: a code from the list above and a message
// that is safe to show to the user as is.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface. The text is meant for logs; show
// users ErrorMessage(err) instead.
func (e *Error) Error() string {
	return fmt.Sprintf("chat: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the application error in err's chain, "" for
// a nil error and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the application error in
// err's chain, "" for a nil error and a generic "Internal error." for any
// other error, so that internal details never reach users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

package chat_test

import (
	"errors"
	"fmt"
	"testing"

	"switchboard/chat"
)

func TestErrorCodeAndMessageOfAppErrors(t *testing.T) {
	err := chat.Errorf(chat.ECONFLICT, "Username %q is taken.", "bob")
	wrapped := fmt.Errorf("creating user: %w", err)
	for _, e := range []error{err, wrapped} {
		if got := chat.ErrorCode(e); got != chat.ECONFLICT {
			t.Errorf("ErrorCode(%v) = %q, want %q", e, got, chat.ECONFLICT)
		}
		if got := chat.ErrorMessage(e); got != `Username "bob" is taken.` {
			t.Errorf("ErrorMessage(%v) = %q", e, got)
		}
	}
}

func TestOtherErrorsAreInternalAndHideTheirText(t *testing.T) {
	err := errors.New("disk on fire at /var/lib/secret")
	if got := chat.ErrorCode(err); got != chat.EINTERNAL {
		t.Errorf("ErrorCode = %q, want %q", got, chat.EINTERNAL)
	}
	if got := chat.ErrorMessage(err); got != "Internal error." {
		t.Errorf("ErrorMessage = %q, want the generic message", got)
	}
}

func TestNilErrorHasNoCode(t *testing.T) {
	if chat.ErrorCode(nil) != "" || chat.ErrorMessage(nil) != "" {
		t.Error("nil error should have empty code and message")
	}
}

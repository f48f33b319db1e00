package casegate

import (
	"context"
	"errors"
)

// Message is one rendered outgoing message.
type Message struct {
	Channel Channel
	To      string
	Subject string // email only
	Text    string
	HTML    string // email only; may be empty
	// Unsubscribe is where one click stops messages like this one, for the
	// List-Unsubscribe header (RFC 8058); email only, "" for none.
	Unsubscribe string
}

// Sender hands a message to a provider: an SMTP server, an SMS gateway, the demo mailbox.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError marks a send failure that no retry can fix (a rejected address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says retrying is pointless.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

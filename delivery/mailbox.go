package delivery

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/casegate/casegate"
)

// MailboxSize is how many messages a Mailbox keeps.
const MailboxSize = 500

// MailboxMessage is a message the Mailbox received.
type MailboxMessage struct {
	casegate.Message
	ID         int64 // 1 for the first message received, counting up
	ReceivedAt time.Time
}

// mailboxJSON is a MailboxMessage as /dev/mailbox answers it: snake_case
// keys, as the API's, and no empty subject or HTML.
type mailboxJSON struct {
	ID         int64            `json:"id"`
	ReceivedAt time.Time        `json:"received_at"`
	Channel    casegate.Channel `json:"channel"`
	To         string           `json:"to"`
	Subject    string           `json:"subject,omitempty"`
	Text       string           `json:"text"`
	HTML       string           `json:"html,omitempty"`
}

// MarshalJSON writes m with the keys of mailboxJSON.
func (m MailboxMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(mailboxJSON{ID: m.ID, ReceivedAt: m.ReceivedAt, Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}

// Mailbox is an in-memory Sender for demo mode: it accepts messages of every
// channel and keeps the last MailboxSize of them for the mailbox page. The
// zero value is ready to use and safe for concurrent use.
type Mailbox struct {
	Now func() time.Time // the clock; time.Now when nil

	mu     sync.Mutex
	ring   []MailboxMessage // in arrival order, at most MailboxSize
	nextID int64
}

var _ casegate.Sender = (*Mailbox)(nil)

// Send stores m. It fails only when ctx is already done.
func (b *Mailbox) Send(ctx context.Context, m casegate.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	if len(b.ring) == MailboxSize {
		b.ring = slices.Delete(b.ring, 0, 1)
	}
	b.ring = append(b.ring, MailboxMessage{Message: m, ID: b.nextID, ReceivedAt: now()})
	return nil
}

// Messages returns the kept messages, newest first.
func (b *Mailbox) Messages() []MailboxMessage {
	b.mu.Lock()
	out := slices.Clone(b.ring)
	b.mu.Unlock()
	slices.Reverse(out)
	return out
}

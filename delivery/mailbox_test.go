package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
)

func TestMailboxKeepsNewestFirst(t *testing.T) {
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	b := &Mailbox{Now: func() time.Time { now = now.Add(time.Second); return now }}
	ctx := context.Background()
	for i := range MailboxSize + 20 {
		ch := casegate.ChannelEmail
		if i%2 == 1 {
			ch = casegate.ChannelSMS
		}
		if err := b.Send(ctx, casegate.Message{Channel: ch, To: fmt.Sprint("to-", i), Text: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := b.Messages()
	if len(msgs) != MailboxSize {
		t.Fatalf("%d messages kept, want %d", len(msgs), MailboxSize)
	}
	if msgs[0].To != fmt.Sprint("to-", MailboxSize+19) || msgs[len(msgs)-1].To != "to-20" {
		t.Errorf("kept %s … %s, want the newest %d, newest first", msgs[0].To, msgs[len(msgs)-1].To, MailboxSize)
	}
	if msgs[0].ID != MailboxSize+20 || !msgs[0].ReceivedAt.After(msgs[1].ReceivedAt) {
		t.Errorf("newest: id %d at %v; next at %v", msgs[0].ID, msgs[0].ReceivedAt, msgs[1].ReceivedAt)
	}
	if msgs[0].Channel != casegate.ChannelSMS || msgs[1].Channel != casegate.ChannelEmail {
		t.Error("channels were not kept")
	}
	msgs[0].To = "changed"
	if b.Messages()[0].To == "changed" {
		t.Error("Messages returned the mailbox's own slice")
	}
}

func TestMailboxConcurrentAndCancelled(t *testing.T) {
	var b Mailbox
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				b.Send(context.Background(), casegate.Message{To: fmt.Sprint(i, "-", j)})
				b.Messages()
			}
		})
	}
	wg.Wait()
	if got := len(b.Messages()); got != 400 {
		t.Errorf("%d messages, want 400", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Send(ctx, casegate.Message{To: "late"}); err == nil {
		t.Error("Send with a cancelled context succeeded")
	}
}

// TestMailboxJSONKeys: /dev/mailbox answers snake_case keys, as the API does,
// not the Go names of the fields.
func TestMailboxJSONKeys(t *testing.T) {
	at := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	b := &Mailbox{Now: func() time.Time { return at }}
	if err := b.Send(context.Background(), casegate.Message{Channel: casegate.ChannelEmail, To: "a@example.com", Subject: "Your code", Text: "code", HTML: "<p>code</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(context.Background(), casegate.Message{Channel: casegate.ChannelSMS, To: "+15555550123", Text: "sms"}); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(b.Messages())
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"id": 2.0, "received_at": "2026-03-02T14:00:00Z", "channel": "sms", "to": "+15555550123", "text": "sms"},
		{"id": 1.0, "received_at": "2026-03-02T14:00:00Z", "channel": "email", "to": "a@example.com", "subject": "Your code", "text": "code", "html": "<p>code</p>"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mailbox JSON %s,\nwant %v", data, want)
	}
}

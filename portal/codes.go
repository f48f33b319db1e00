package portal

import (
	"fmt"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
)

// newCodeChallenge is a new challenge of purpose on channel, made at now,
// with a fresh code: every code a use case sends starts here, so that all
// live CodeTTL, cool down from ResendBase and are kept only as a MAC. It
// returns the code sealed for its delivery.
func (p *Portal) newCodeChallenge(purpose casegate.Purpose, channel casegate.Channel, now time.Time) (casegate.Challenge, []byte, error) {
	ch := casegate.Challenge{
		ID:        randomHex(16),
		Purpose:   purpose,
		Channel:   channel,
		CreatedAt: now,
	}
	code, err := p.freshCode()
	if err != nil {
		return casegate.Challenge{}, nil, err
	}
	p.renewCode(&ch, code, now)
	return ch, code.sealed, nil
}

// freshCode is a new code, plain for its MAC and sealed for its delivery.
// It is made before the transaction that stores it, which then holds its
// locks no longer for it.
type freshCode struct {
	plain  string
	sealed []byte
}

func (p *Portal) freshCode() (freshCode, error) {
	code, err := accesscode.Generate(p.limits.CodeLength)
	if err != nil {
		return freshCode{}, fmt.Errorf("portal: generate code: %w", err)
	}
	return freshCode{plain: code, sealed: p.keys.Seal(code)}, nil
}

// renewCode gives ch the code at now and counts it as one more send: the
// new MAC, the expiry restarted, the cooldown doubled with each send.
func (p *Portal) renewCode(ch *casegate.Challenge, code freshCode, now time.Time) {
	ch.KeyID, ch.CodeMAC = p.keys.MAC(ch.ID, code.plain)
	ch.ExpiresAt = now.Add(p.limits.CodeTTL)
	ch.Sends++
	ch.ResendAfter = now.Add(p.limits.ResendBase << (ch.Sends - 1))
}

// codeDelivery is the message that carries ch's sealed code with template
// to dest, queued at now (through the outbox's QueueCode, which hands it to
// the worker when it can take it at once). extra adds to the parameters every code message has: its
// expiry and how many minutes it is valid.
func (p *Portal) codeDelivery(ch casegate.Challenge, partyID int64, dest, template string, sealed []byte, extra map[string]string, now time.Time) casegate.Delivery {
	params := map[string]string{
		"expires_at":    ch.ExpiresAt.Format(time.RFC3339),
		"valid_minutes": strconv.Itoa(int(p.limits.CodeTTL / time.Minute)),
	}
	for k, v := range extra {
		params[k] = v
	}
	d := casegate.Delivery{
		ChallengeID: ch.ID,
		PartyID:     partyID,
		Channel:     ch.Channel,
		Destination: dest,
		Template:    template,
		Language:    ch.Language,
		Params:      params,
		SealedCode:  sealed,
		Status:      casegate.DeliveryPending,
		NextAttempt: now,
		CreatedAt:   now,
	}
	return d
}

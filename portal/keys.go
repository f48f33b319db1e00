package portal

import (
	"context"

	"github.com/casegate/casegate"
)

// AuditKeyChange records on the audit log that an operator changed the
// instance's keys: action is "keys.rotate" (keyID the new current key) or
// "keys.retire" (keyID the key taken out). The event is chained with the
// keyring the portal holds.
func (p *Portal) AuditKeyChange(ctx context.Context, action, keyID, actor string) error {
	now := p.clock()
	return p.store.Update(ctx, func(tx casegate.Tx) error {
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: action, Target: "key:" + keyID, Outcome: "ok",
		})
	})
}

package casegate

import "time"

// Metrics counts what happens, for operators' dashboards. It never receives a
// code, a token or personal data. Implementations are safe for concurrent use.
type Metrics interface {
	CodeRequested(outcome string) // issued, no_match, locked, rate_limited, …
	CodeRedeemed(outcome string)  // ok or an error code
	PartyLocked()
	DeliveryFinished(ch Channel, template, outcome string) // sent, retry, failed, cancelled
	// DeliverySent observes, for a delivery its provider accepted, how long
	// it waited from being queued to that acceptance, retries included.
	DeliverySent(ch Channel, queuedToSent time.Duration)
	SMSRefused(reason string)                // a text message not queued or not sent: country, number_type, prefix_limit, …
	SMSBudget(share string, spent, size int) // texts counted against a share of the daily SMS budget and not refilled yet
}

// NopMetrics counts nothing.
type NopMetrics struct{}

func (NopMetrics) CodeRequested(string)                     {}
func (NopMetrics) CodeRedeemed(string)                      {}
func (NopMetrics) PartyLocked()                             {}
func (NopMetrics) DeliveryFinished(Channel, string, string) {}
func (NopMetrics) DeliverySent(Channel, time.Duration)      {}
func (NopMetrics) SMSRefused(string)                        {}
func (NopMetrics) SMSBudget(string, int, int)               {}

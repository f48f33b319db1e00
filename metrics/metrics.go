// Package metrics exposes casegate's counters to Prometheus: HTTP requests by
// route, codes requested and redeemed by outcome, lockouts, deliveries by
// channel and outcome, texts refused and the spend of the SMS budget, and
// the outbox queue depth.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casegate/casegate"
)

// Registry holds casegate's metrics. It implements casegate.Metrics.
type Registry struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	codesRequested *prometheus.CounterVec
	codesRedeemed  *prometheus.CounterVec
	lockouts       prometheus.Counter
	deliveries     *prometheus.CounterVec
	smsRefused     *prometheus.CounterVec
	smsSpent       *prometheus.GaugeVec
	smsShareSize   *prometheus.GaugeVec
}

// New returns a registry.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegate_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		codesRequested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegate_codes_requested_total", Help: "Access-code requests by outcome (issued, no_match, locked, rate_limited, …).",
		}, []string{"outcome"}),
		codesRedeemed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegate_codes_redeemed_total", Help: "Code entries by outcome (ok, code_incorrect, code_malformed, …).",
		}, []string{"outcome"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "casegate_party_lockouts_total", Help: "Parties locked after too many wrong codes.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegate_deliveries_total", Help: "Outbox deliveries by channel, template and outcome (sent, retry, failed, cancelled).",
		}, []string{"channel", "template", "outcome"}),
		smsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegate_sms_refused_total", Help: "Text messages not queued or not sent by the SMS pumping protection, by reason (country, number_type, destination_limit, prefix_limit, contact_limit, daily_budget).",
		}, []string{"reason"}),
		smsSpent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "casegate_sms_budget_spent", Help: "Texts counted against each share of the daily SMS budget (first_code, code, contact, notice) that have not refilled yet.",
		}, []string{"share"}),
		smsShareSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "casegate_sms_budget_size", Help: "Texts a day each share of the daily SMS budget holds.",
		}, []string{"share"}),
	}
	r.reg.MustRegister(r.requests, r.codesRequested, r.codesRedeemed, r.lockouts, r.deliveries, r.smsRefused, r.smsSpent, r.smsShareSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// WatchQueue adds the outbox queue depth, read from st at each scrape.
func (r *Registry) WatchQueue(st casegate.Store) {
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "casegate_delivery_queue_depth", Help: "Deliveries waiting to be sent (pending).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var n int
		err := st.View(ctx, func(tx casegate.Tx) error {
			var err error
			n, err = tx.CountDeliveries(ctx, casegate.DeliveryPending)
			return err
		})
		if err != nil {
			return -1
		}
		return float64(n)
	})
	r.reg.MustRegister(queue)
}

func (r *Registry) CodeRequested(outcome string) { r.codesRequested.WithLabelValues(outcome).Inc() }
func (r *Registry) CodeRedeemed(outcome string)  { r.codesRedeemed.WithLabelValues(outcome).Inc() }
func (r *Registry) PartyLocked()                 { r.lockouts.Inc() }
func (r *Registry) DeliveryFinished(ch casegate.Channel, template, outcome string) {
	r.deliveries.WithLabelValues(string(ch), template, outcome).Inc()
}
func (r *Registry) SMSRefused(reason string) { r.smsRefused.WithLabelValues(reason).Inc() }
func (r *Registry) SMSBudget(share string, spent, size int) {
	r.smsSpent.WithLabelValues(share).Set(float64(spent))
	r.smsShareSize.WithLabelValues(share).Set(float64(size))
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Request counts one HTTP request. route is the pattern of the route that
// answered, one the server registered, or "" when none did: never the path,
// which a client chooses. A client chooses the method too, so only the seven
// methods of MethodLabel count under their own names.
func (r *Registry) Request(method, route string, status int) {
	if route == "" {
		route = "unmatched"
	}
	code := "other"
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	r.requests.WithLabelValues(MethodLabel(method), route, code).Inc()
}

// MethodLabel returns method when it is GET, HEAD, POST, PUT, DELETE, PATCH
// or OPTIONS, and "other" for any other, so that no client can add a series
// (or put a string of its own in the metrics or the logs) by making one up.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return method
	}
	return "other"
}

// Package metrics exposes casegate's metrics to Prometheus: HTTP requests and
// their latency by route, codes requested and redeemed by outcome, lockouts,
// deliveries by channel and outcome and the time from queue to provider,
// texts refused and the spend of the SMS budget, the outbox queue depth, the
// state of the audit chain and the build. Durations are in seconds.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
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
	latency        *prometheus.HistogramVec
	queuedToSent   *prometheus.HistogramVec
	auditIntact    *prometheus.GaugeVec // no labels: a vector only so that it is absent until set
	auditVerified  *prometheus.GaugeVec
	buildInfo      *prometheus.GaugeVec
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
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casegate_http_request_duration_seconds", Help: "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		queuedToSent: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casegate_delivery_queued_to_sent_seconds", Help: "Time from a message being queued to its provider accepting it, retries included, by channel.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"channel"}),
		auditIntact: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "casegate_audit_chain_intact", Help: "1 when the last scheduled verification of the audit chain found it intact, 0 when it found a break; absent before the first.",
		}, nil),
		auditVerified: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "casegate_audit_chain_verified_timestamp_seconds", Help: "When the audit chain was last verified (Unix time), whatever the verdict.",
		}, nil),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "casegate_build_info", Help: "Always 1; the labels name the build that is running.",
		}, []string{"version", "revision", "goversion"}),
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
	r.reg.MustRegister(r.requests, r.latency, r.queuedToSent, r.buildInfo, r.auditIntact, r.auditVerified, r.codesRequested, r.codesRedeemed, r.lockouts, r.deliveries, r.smsRefused, r.smsSpent, r.smsShareSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// WatchQueue adds the outbox queue depth, read from st at each scrape. A
// read that fails is counted (casegate_delivery_queue_depth_errors_total)
// and the last depth read is reported again; before any read succeeded, the
// depth is left out of the scrape.
func (r *Registry) WatchQueue(st casegate.Store) {
	r.reg.MustRegister(&queueDepth{
		st: st,
		desc: prometheus.NewDesc("casegate_delivery_queue_depth",
			"Deliveries waiting to be sent (pending), as last read.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "casegate_delivery_queue_depth_errors_total", Help: "Reads of the queue depth that failed (the database did not answer).",
		}),
	})
}

// queueDepth collects the outbox queue depth.
type queueDepth struct {
	st     casegate.Store
	desc   *prometheus.Desc
	errors prometheus.Counter

	mu   sync.Mutex
	last float64
	read bool // last holds a depth that was read
}

func (q *queueDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.desc
	q.errors.Describe(ch)
}

func (q *queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int
	err := q.st.View(ctx, func(tx casegate.Tx) error {
		var err error
		n, err = tx.CountDeliveries(ctx, casegate.DeliveryPending)
		return err
	})
	q.mu.Lock()
	if err != nil {
		q.errors.Inc()
	} else {
		q.last, q.read = float64(n), true
	}
	last, read := q.last, q.read
	q.mu.Unlock()
	if read {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, last)
	}
	q.errors.Collect(ch)
}

// BuildInfo sets casegate_build_info to 1 with the build's labels.
func (r *Registry) BuildInfo(version, revision, goVersion string) {
	r.buildInfo.Reset()
	r.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// AuditVerified records the verdict of a verification of the audit chain at at.
func (r *Registry) AuditVerified(intact bool, at time.Time) {
	v := 0.0
	if intact {
		v = 1
	}
	r.auditIntact.WithLabelValues().Set(v)
	r.auditVerified.WithLabelValues().Set(float64(at.UnixNano()) / 1e9)
}

func (r *Registry) CodeRequested(outcome string) { r.codesRequested.WithLabelValues(outcome).Inc() }
func (r *Registry) CodeRedeemed(outcome string)  { r.codesRedeemed.WithLabelValues(outcome).Inc() }
func (r *Registry) PartyLocked()                 { r.lockouts.Inc() }
func (r *Registry) DeliveryFinished(ch casegate.Channel, template, outcome string) {
	r.deliveries.WithLabelValues(string(ch), template, outcome).Inc()
}
func (r *Registry) DeliverySent(ch casegate.Channel, queuedToSent time.Duration) {
	r.queuedToSent.WithLabelValues(string(ch)).Observe(queuedToSent.Seconds())
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

// Request counts one HTTP request and observes how long it took. route is the pattern of the route that
// answered, one the server registered, or "" when none did: never the path,
// which a client chooses. A client chooses the method too, so only the seven
// methods of MethodLabel count under their own names.
func (r *Registry) Request(method, route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	code := "other"
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	method = MethodLabel(method)
	r.requests.WithLabelValues(method, route, code).Inc()
	r.latency.WithLabelValues(method, route).Observe(took.Seconds())
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

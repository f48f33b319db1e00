package web

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// maxImportBody bounds one import request; larger files go through `casegate import`.
const maxImportBody = 256 << 20

func (s *Server) importCases(w http.ResponseWriter, r *http.Request) error {
	if s.importer == nil {
		return casegate.NewError(casegate.EUnavailable, "admin.import_unavailable")
	}
	format, err := importFormat(r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	res, err := s.importer.Import(r.Context(), body, format, adminActor(r), nil)
	s.portal.ForgetReads()
	if err != nil {
		return err
	}
	rejected := res.Rejected
	if rejected == nil {
		rejected = []portal.Rejection{}
	}
	warnings := res.Warnings
	if warnings == nil {
		warnings = []portal.Warning{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged, "rejected": rejected, "warnings": warnings})
	return nil
}

// importFormat reads an import's Content-Type: JSON Lines
// (application/x-ndjson, or none, as a JSON body without one is read as
// JSON) or CSV (text/csv). Anything else is refused rather than read as JSON
// Lines: a form post of a CSV file would otherwise fail on every line.
func importFormat(contentType string) (string, error) {
	if contentType == "" {
		return "jsonl", nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err == nil && mt == "application/x-ndjson":
		return "jsonl", nil
	case err == nil && mt == "text/csv":
		return "csv", nil
	}
	return "", casegate.NewError(casegate.EInvalid, "admin.import_content_type")
}

type auditBody struct {
	Seq      int64             `json:"seq"`
	At       time.Time         `json:"at"`
	Actor    string            `json:"actor"`
	Action   string            `json:"action"`
	Target   string            `json:"target"`
	Outcome  string            `json:"outcome"`
	IPHash   string            `json:"ip_hash,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	KeyID    string            `json:"key_id,omitempty"` // the audit key that chained it; none for the unkeyed start of an old database
	PrevHash string            `json:"prev_hash"`
	Hash     string            `json:"hash"`
}

// queryValue is query parameter name's value, whether it was given, and
// whether it was given once: a parameter given twice has no one value, and
// is refused like a bad value rather than read as its first.
func queryValue(q url.Values, name string) (v string, given, once bool) {
	vs := q[name]
	if len(vs) == 0 {
		return "", false, true
	}
	return vs[0], true, len(vs) == 1
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, limit, fields := int64(0), 100, map[string]casegate.Msg{}
	// A parameter given empty ("?after=") is refused like any other bad
	// value, as the spec has no empty value for it.
	if v, given, once := queryValue(q, "after"); given {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || !once {
			fields["after"] = casegate.M("admin.after")
		}
		after = n
	}
	if v, given, once := queryValue(q, "limit"); given {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 || !once {
			fields["limit"] = casegate.M("admin.limit")
		}
		limit = n
	}
	if len(fields) > 0 {
		return casegate.FieldErrors(fields)
	}
	es, err := s.portal.AuditEvents(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := make([]auditBody, 0, len(es))
	for _, e := range es {
		out = append(out, auditBody{e.Seq, e.At.UTC(), e.Actor, e.Action, e.Target, e.Outcome, e.IPHash, e.Details, e.KeyID, e.PrevHash, e.Hash})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}

type deliveryBody struct {
	ID          int64      `json:"id"`
	Channel     string     `json:"channel"`
	Destination string     `json:"destination"`
	Template    string     `json:"template"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	status := casegate.DeliveryFailed
	if v, given, once := queryValue(r.URL.Query(), "status"); given {
		// an empty ?status= is a bad status, not the default
		status = casegate.DeliveryStatus(v)
		if !once {
			return casegate.FieldError("status", "admin.delivery_status")
		}
	}
	ds, err := s.portal.Deliveries(r.Context(), status, 1000)
	if err != nil {
		return err
	}
	out := make([]deliveryBody, 0, len(ds))
	for _, d := range ds {
		b := deliveryBody{
			ID: d.ID, Channel: string(d.Channel), Destination: portal.MaskContact(d.Channel, d.Destination),
			Template: d.Template, Status: string(d.Status), Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt.UTC(),
		}
		if !d.SentAt.IsZero() {
			t := d.SentAt.UTC()
			b.SentAt = &t
		}
		out = append(out, b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}

func (s *Server) unlockParty(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.portal.UnlockParty(r.Context(), id, adminActor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

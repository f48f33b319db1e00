package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/casegate/casegate"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types, trailing data and oversized bodies with problems that name the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return casegate.NewError(casegate.EInvalid, "api.content_type")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return casegate.NewError(casegate.EInvalid, "api.one_object")
	}
	return nil
}

// jsonProblem explains a decoding error in terms of the body's fields.
func jsonProblem(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return casegate.NewError(casegate.EInvalid, "api.object")
		}
		return casegate.FieldErrors(map[string]casegate.Msg{field: jsonKind(typ.Type.Kind().String())})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return casegate.NewError(casegate.EInvalid, "api.invalid_json")
	case errors.Is(err, io.EOF):
		return casegate.NewError(casegate.EInvalid, "api.empty_body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return casegate.FieldError(name, "api.unknown_field")
	}
	return casegate.NewError(casegate.EInvalid, "api.unreadable")
}

// jsonKind is the message that a field must hold a value of Go kind k.
func jsonKind(k string) casegate.Msg {
	switch k {
	case "string":
		return casegate.M("api.must_be_string")
	case "bool":
		return casegate.M("api.must_be_boolean")
	case "int", "int64", "float64":
		return casegate.M("api.must_be_number")
	}
	return casegate.M("api.must_be_kind", "Kind", k)
}

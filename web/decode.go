package web

import (
	"encoding/json"
	"errors"
	"fmt"
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
			return casegate.Errorf(casegate.EInvalid, "Send the body as application/json.")
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
		return casegate.Errorf(casegate.EInvalid, "The body must hold exactly one JSON object.")
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
			return casegate.Errorf(casegate.EInvalid, "The body must be a JSON object.")
		}
		return casegate.FieldErrors(map[string]string{field: fmt.Sprintf("Must be a %s.", jsonKind(typ.Type.Kind().String()))})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return casegate.Errorf(casegate.EInvalid, "The body is not valid JSON.")
	case errors.Is(err, io.EOF):
		return casegate.Errorf(casegate.EInvalid, "The body is empty; send a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return casegate.FieldErrors(map[string]string{name: "This field is not known."})
	}
	return casegate.Errorf(casegate.EInvalid, "The body could not be read as JSON.")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "number"
	}
	return k
}

package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/casegate/casegate"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types, trailing data and oversized bodies with problems that name the field.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return casegate.NewError(casegate.EInvalid, "api.content_type")
		}
	}
	var raw bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(http.MaxBytesReader(w, r.Body, maxJSONBody), &raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if bytes.Equal(bytes.TrimSpace(raw.Bytes()), []byte("null")) {
		// null decodes into a struct as nothing at all: it is not the
		// object every body is.
		return casegate.NewError(casegate.EInvalid, "api.object")
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return casegate.NewError(casegate.EInvalid, "api.one_object")
	}
	return exactNames(raw.Bytes(), v)
}

// exactNames refuses a member whose name is a field's only by case
// ("Email" for "email"), which encoding/json takes as the field: the
// contract names fields exactly, and a client that sends another spelling
// has a bug it should hear of. data decoded into v already.
func exactNames(data []byte, v any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil // not an object: v is not a struct, and said so already
	}
	names := jsonNames(reflect.TypeOf(v))
	for name := range members {
		if !names[name] {
			return casegate.FieldError(name, "api.unknown_field")
		}
	}
	return nil
}

var jsonNameCache sync.Map // reflect.Type → map[string]bool

// jsonNames is the set of member names encoding/json gives the fields of
// struct type t (or of the struct t points to).
func jsonNames(t reflect.Type) map[string]bool {
	if m, ok := jsonNameCache.Load(t); ok {
		return m.(map[string]bool)
	}
	st := t
	for st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	names := map[string]bool{}
	if st.Kind() == reflect.Struct {
		for f := range st.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case !f.IsExported() || name == "-":
			case name == "":
				names[f.Name] = true
			default:
				names[name] = true
			}
		}
	}
	jsonNameCache.Store(t, names)
	return names
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

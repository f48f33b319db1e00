package casegate

// StatusInfo describes a status code of the built-in catalog.
type StatusInfo struct {
	Code        string
	Terminal    bool              // the case is finished: processing times count to the first terminal event
	Title       map[string]string // by language: a short name
	Description map[string]string // by language: what it means for the person, in plain words
}

// statusCatalog is the built-in catalog. Imports and events may use these
// codes or a custom code with its own title.
var statusCatalog = []StatusInfo{
	{"received", false,
		map[string]string{"en": "Case received", "es": "Caso recibido"},
		map[string]string{"en": "We received your case and sent you a receipt notice. We will tell you when we take the next step.", "es": "Recibimos su caso y le enviamos un aviso de recibo. Le avisaremos cuando demos el siguiente paso."}},
	{"fee_received", false,
		map[string]string{"en": "Fee received", "es": "Pago recibido"},
		map[string]string{"en": "We received the filing fee for your case.", "es": "Recibimos el pago de la tarifa de su caso."}},
	{"biometrics_scheduled", false,
		map[string]string{"en": "Biometrics appointment scheduled", "es": "Cita de datos biométricos programada"},
		map[string]string{"en": "We scheduled an appointment to take your fingerprints and photo. The notice we mailed you says where and when.", "es": "Programamos una cita para tomar sus huellas y su foto. El aviso que le enviamos por correo dice dónde y cuándo."}},
	{"biometrics_completed", false,
		map[string]string{"en": "Biometrics taken", "es": "Datos biométricos tomados"},
		map[string]string{"en": "We took your fingerprints and photo. You do not need to do anything now.", "es": "Tomamos sus huellas y su foto. No necesita hacer nada por ahora."}},
	{"interview_scheduled", false,
		map[string]string{"en": "Interview scheduled", "es": "Entrevista programada"},
		map[string]string{"en": "We scheduled an interview. The notice we mailed you says where and when, and what to bring.", "es": "Programamos una entrevista. El aviso que le enviamos por correo dice dónde y cuándo, y qué debe traer."}},
	{"evidence_requested", false,
		map[string]string{"en": "More evidence requested", "es": "Se solicitó más evidencia"},
		map[string]string{"en": "We need more information to decide your case. Follow the request we mailed you and answer by its deadline.", "es": "Necesitamos más información para decidir su caso. Siga la solicitud que le enviamos por correo y responda antes de la fecha límite."}},
	{"response_received", false,
		map[string]string{"en": "Response received", "es": "Respuesta recibida"},
		map[string]string{"en": "We received your response to our request and will review it.", "es": "Recibimos su respuesta a nuestra solicitud y la revisaremos."}},
	{"approved", true,
		map[string]string{"en": "Case approved", "es": "Caso aprobado"},
		map[string]string{"en": "We approved your case and mailed you an approval notice.", "es": "Aprobamos su caso y le enviamos por correo un aviso de aprobación."}},
	{"card_produced", true,
		map[string]string{"en": "Card being produced", "es": "Tarjeta en producción"},
		map[string]string{"en": "We are producing your card and will mail it to the address we have on file.", "es": "Estamos produciendo su tarjeta y la enviaremos a la dirección que tenemos registrada."}},
	{"card_mailed", true,
		map[string]string{"en": "Card mailed", "es": "Tarjeta enviada por correo"},
		map[string]string{"en": "We mailed your card to the address we have on file.", "es": "Enviamos su tarjeta por correo a la dirección que tenemos registrada."}},
	{"denied", true,
		map[string]string{"en": "Case denied", "es": "Caso denegado"},
		map[string]string{"en": "We denied your case and mailed you a decision notice that explains why and what you can do.", "es": "Denegamos su caso y le enviamos por correo un aviso de decisión que explica por qué y qué puede hacer."}},
	{"withdrawn", true,
		map[string]string{"en": "Case withdrawn", "es": "Caso retirado"},
		map[string]string{"en": "We received your request to withdraw the case and closed it.", "es": "Recibimos su solicitud de retirar el caso y lo cerramos."}},
	{"transferred", false,
		map[string]string{"en": "Case transferred", "es": "Caso transferido"},
		map[string]string{"en": "We moved your case to another office to process it faster. You do not need to do anything.", "es": "Trasladamos su caso a otra oficina para procesarlo más rápido. No necesita hacer nada."}},
}

var statusByCode = func() map[string]StatusInfo {
	m := make(map[string]StatusInfo, len(statusCatalog))
	for _, s := range statusCatalog {
		m[s.Code] = s
	}
	return m
}()

// Status returns the catalog entry for code.
func Status(code string) (StatusInfo, bool) {
	s, ok := statusByCode[code]
	return s, ok
}

// Statuses returns the whole catalog, in the order a case usually goes.
func Statuses() []StatusInfo { return append([]StatusInfo(nil), statusCatalog...) }

// TerminalStatuses returns the codes that end a case.
func TerminalStatuses() []string {
	var out []string
	for _, s := range statusCatalog {
		if s.Terminal {
			out = append(out, s.Code)
		}
	}
	return out
}

// StatusTitle is how an event is named to a person in lang: the catalog title,
// else the event's custom title, else its code.
func StatusTitle(code, customTitle, lang string) string {
	if s, ok := statusByCode[code]; ok {
		if t := s.Title[lang]; t != "" {
			return t
		}
		return s.Title["en"]
	}
	if customTitle != "" {
		return customTitle
	}
	return code
}

package web

import "github.com/casegate/casegate/catalog"

// HasTranslation reports whether lang's own message file holds key.
func HasTranslation(lang, key string) bool { return catalog.Default().Has(lang, key) }

package web

// HasTranslation reports whether the pages' catalog has lang's own text for
// the English message msg.
func HasTranslation(lang, msg string) bool {
	c, err := newCatalog()
	if err != nil {
		panic(err)
	}
	return c.has(lang, msg)
}

// Package identity normalises and compares what a person types to prove who
// they are: receipt numbers, A-Numbers, dates, countries, names, and contact
// details. It is pure: no I/O, no clock, no state beyond read-only tables and the
// region national phone numbers are read in (SetPhoneRegion, set once at start).
//
// Every parser returns a canonical form, so that the same value typed two ways
// compares equal as plain strings, or one of the sentinel errors below, whose
// message tells the person the form that is expected. The web layer may show a
// localised message instead by comparing with errors.Is.
package identity

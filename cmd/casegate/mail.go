package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// cmdDKIMRecord prints the DNS TXT record that publishes the public half of
// CASEGATE_DKIM_KEY_FILE, in zone-file form, for the agency's DNS. Its
// flags are the settings the record is made of.
func cmdDKIMRecord(_ context.Context, e env, args []string) error {
	cfg, rest, err := loadConfigFor(newFlagSet("dkim-record", e.stderr), args, e.getenv,
		[]string{"dkim-key-file", "dkim-selector", "dkim-domain", "mail-from"})
	if err != nil {
		return err
	}
	if err := noArgs("usage: casegate dkim-record [flags]", rest); err != nil {
		return err
	}
	if cfg.DKIMKeyFile == "" {
		return errors.New("CASEGATE_DKIM_KEY_FILE: not set; name the PEM private key that signs email (see docs/mail.md)")
	}
	d, err := cfg.dkim()
	if err != nil {
		return err
	}
	name, value, err := d.DNSRecord()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s. IN TXT %s\n", name, txtStrings(value))
	return nil
}

// txtStrings writes a TXT value as quoted strings of at most 255 bytes each,
// as DNS requires of one string; resolvers join them, and DKIM reads the
// joined value (RFC 6376, 3.6.2.2). An RSA key's value is longer than one.
func txtStrings(value string) string {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, `"`+value[:255]+`"`)
		value = value[255:]
	}
	return strings.Join(append(parts, `"`+value+`"`), " ")
}

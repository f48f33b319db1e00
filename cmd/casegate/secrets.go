package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// secretSettings are the settings whose values may hold a password or a
// token. Each can be given instead from a file, CASEGATE_X_FILE=/path, or,
// under systemd's LoadCredential=, from the credential named like the
// setting in lower case without CASEGATE_ (CASEGATE_SMTP_URL: smtp_url) in
// $CREDENTIALS_DIRECTORY. Their values never appear in errors.
var secretSettings = []string{"CASEGATE_DB", "CASEGATE_SMTP_URL", "CASEGATE_SMS_URL"}

// maxSecretFile bounds what is read from a secret's file: a URL, not a disk image.
const maxSecretFile = 64 << 10

// isSecretSetting reports whether the variable env may hold a secret.
func isSecretSetting(env string) bool { return slices.Contains(secretSettings, env) }

// credentialName is the systemd credential that holds the setting env:
// CASEGATE_SMTP_URL is smtp_url.
func credentialName(env string) string {
	return strings.ToLower(strings.TrimPrefix(env, "CASEGATE_"))
}

// lookupSetting returns the value of the setting env from the environment,
// and where it came from, for errors: the variable itself, its _FILE
// variable (the file's path is named, never what it holds), or a systemd
// credential. Setting both the variable and its _FILE is an error. found is
// false when none is given.
func lookupSetting(env string, getenv func(string) string) (value, from string, found bool, err error) {
	v := getenv(env)
	if !isSecretSetting(env) {
		return v, env, v != "", nil
	}
	fileVar := env + "_FILE"
	path := getenv(fileVar)
	switch {
	case v != "" && path != "":
		return "", env, false, fmt.Errorf("%s and %s are both set: keep one", env, fileVar)
	case v != "":
		return v, env, true, nil
	case path != "":
		v, err := readSecretFile(path)
		if err != nil {
			return "", fileVar, false, fmt.Errorf("%s: %w", fileVar, err)
		}
		return v, fileVar + " (" + path + ")", true, nil
	}
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return "", env, false, nil
	}
	cred := filepath.Join(dir, credentialName(env))
	v, err = readSecretFile(cred)
	if errors.Is(err, fs.ErrNotExist) {
		return "", env, false, nil
	}
	from = "credential " + credentialName(env) + " (" + cred + ")"
	if err != nil {
		return "", from, false, fmt.Errorf("%s: %w", from, err)
	}
	return v, from, true, nil
}

// readSecretFile reads a secret's file: the value with its trailing line
// break taken off. Its errors name the path and never what the file holds.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", pathError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", pathError(path, err)
	}
	n := len(data)
	if n > maxSecretFile {
		return "", fmt.Errorf("%s holds more than %d KiB; it should hold the value alone", path, maxSecretFile>>10)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	if strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("%s holds more than one line; it should hold the value alone", path)
	}
	return v, nil
}

// pathError says why path cannot be read: "cannot read /run/secrets/smtp:
// permission denied".
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot read %s: no such file: %w", path, fs.ErrNotExist)
	}
	return fmt.Errorf("cannot read %s: %v", path, err)
}

// withoutValue is err with value, a secret, taken out of its text, should a
// check have quoted it.
func withoutValue(err error, value string) error {
	if err == nil || len(value) < 4 || !strings.Contains(err.Error(), value) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), value, "…"))
}

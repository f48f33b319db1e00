package casegate_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLogsSayDurationsInSeconds: no log line writes a time.Duration, which
// slog's JSON handler turns into integer nanoseconds; durations are logged
// as seconds in a field ending "_seconds" (docs/operators.md, "Logs").
func TestLogsSayDurationsInSeconds(t *testing.T) {
	nanos := regexp.MustCompile(`slog\.Duration\(|slog\.DurationValue\(`)
	seconds := regexp.MustCompile(`slog\.Float64\("([a-z_]+)", [^)]*\.Seconds\(\)\)`)
	found := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := nanos.FindIndex(src); loc != nil {
			t.Errorf("%s:%d logs a time.Duration (nanoseconds); log seconds as a float in a *_seconds field", path, 1+strings.Count(string(src[:loc[0]]), "\n"))
		}
		for _, m := range seconds.FindAllSubmatch(src, -1) {
			found++
			if !strings.HasSuffix(string(m[1]), "_seconds") {
				t.Errorf("%s: the field %q holds seconds but does not say so (end it in _seconds)", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no duration logged in seconds anywhere: the pattern no longer matches the code")
	}
}

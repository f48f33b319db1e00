package deploy

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casegate/casegate/internal/testenv"
)

// maxImageBytes is the most the image may weigh: the binary and a few
// hundred kilobytes of certificates and time zones.
const maxImageBytes = 64 << 20

// TestContainerImage builds deploy/Containerfile with podman and checks the
// image without running it (this machine's sandbox refuses `podman run`):
// the user is 65532, not root; the entrypoint is /casegate serve; /data is a
// volume owned by that user; the file system holds exactly the binary, the
// CA certificates, Go's time-zone database, /etc/passwd and /etc/group and
// the data folder's note, so no shell and nothing else to run; the binary
// is static and names the revision it was built with; the image is small.
//
// No registry is reachable here, so the build stage's GO_IMAGE is a local
// image made of this machine's Go toolchain and CA certificates, and RUN
// steps use --isolation=chroot (the OCI runtime cannot make containers
// here either). The host's module and build caches are lent to the build
// (-v), so it needs the network only for modules the host has never fetched;
// --layers=false leaves no intermediate images behind.
//
// It takes 45 to 60 s here (the toolchain image is a third of it), at most the
// minute that would put it behind CASEGATE_LONG_TESTS; -short skips it.
func TestContainerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds the container image, about 50 s")
	}
	podman := testenv.Tool(t, testenv.NamePodman, "podman")
	run := func(args ...string) []byte {
		t.Helper()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), podman, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return out
	}
	tag := fmt.Sprintf("%d", os.Getpid())
	goImage, image := "localhost/casegate-test-go:"+tag, "localhost/casegate-test:"+tag
	t.Cleanup(func() { exec.Command(podman, "rmi", "--force", image, goImage).Run() })

	run("build", "--quiet", "--layers=false", "--file", toolchainContext(t), "--tag", goImage, filepath.Dir(toolchainContext(t)))
	const revision = "0123456789abcdef0123456789abcdef01234567"
	run("build", "--quiet", "--layers=false", "--isolation=chroot", "--file", "Containerfile",
		"--build-arg", "GO_IMAGE="+goImage, "--build-arg", "REVISION="+revision,
		"--volume", goEnv(t, "GOMODCACHE")+":/go/pkg/mod", "--volume", goEnv(t, "GOCACHE")+":/root/.cache/go-build",
		"--tag", image, "..")

	var inspected []struct {
		Size   int64
		Config struct {
			User       string
			Entrypoint []string
			Cmd        []string
			Env        []string
			Volumes    map[string]struct{}
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal(run("image", "inspect", image), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	img := inspected[0]
	if img.Config.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532", img.Config.User)
	}
	if !slices.Equal(img.Config.Entrypoint, []string{"/casegate"}) || !slices.Equal(img.Config.Cmd, []string{"serve"}) {
		t.Errorf("Entrypoint %q Cmd %q, want [/casegate] [serve]", img.Config.Entrypoint, img.Config.Cmd)
	}
	if _, ok := img.Config.Volumes["/data"]; !ok {
		t.Errorf("Volumes %v, want /data", img.Config.Volumes)
	}
	for _, want := range []string{"CASEGATE_DB=/data/casegate.db", "CASEGATE_SECRET_FILE=/data/secret.key", "ZONEINFO=/usr/share/zoneinfo.zip"} {
		if !slices.Contains(img.Config.Env, want) {
			t.Errorf("Env %q lacks %s", img.Config.Env, want)
		}
	}
	if got := img.Config.Labels["org.opencontainers.image.revision"]; got != revision {
		t.Errorf("revision label %q, want %q", got, revision)
	}
	t.Logf("image size %.1f MiB", float64(img.Size)/(1<<20))
	if img.Size <= 0 || img.Size > maxImageBytes {
		t.Errorf("image size %d bytes, want at most %d", img.Size, maxImageBytes)
	}

	// The file system, from a container created (not run) from the image.
	id := strings.TrimSpace(string(run("create", image)))
	defer exec.Command(podman, "rm", "--force", id).Run()
	fsTar := filepath.Join(t.TempDir(), "fs.tar")
	run("export", "--output", fsTar, id)
	files, bin := listImage(t, fsTar)
	wantFiles := []string{"casegate", "data/README", "etc/group", "etc/passwd", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo.zip"}
	var regular []string
	for name, h := range files {
		switch h.Typeflag {
		case tar.TypeReg:
			regular = append(regular, name)
		case tar.TypeDir:
		default:
			t.Errorf("%s in the image is neither a file nor a folder (type %c)", name, h.Typeflag)
		}
		if base := filepath.Base(name); base == "sh" || base == "bash" || base == "busybox" {
			t.Errorf("the image holds a shell: %s", name)
		}
	}
	slices.Sort(regular)
	if !slices.Equal(regular, wantFiles) {
		t.Errorf("files in the image: %q, want exactly %q", regular, wantFiles)
	}
	if h := files["data/"]; h == nil || h.Uid != 65532 || h.Gid != 65532 {
		t.Errorf("/data: %+v, want a folder owned by 65532:65532", h)
	}
	if h := files["casegate"]; h == nil || h.Uid != 0 || h.Mode&0o022 != 0 || h.Mode&0o111 == 0 {
		t.Errorf("/casegate: %+v, want an executable owned by root that others cannot write", h)
	}

	// The binary: static (no interpreter, no shared libraries), and it
	// names the revision it was built from.
	binFile := filepath.Join(t.TempDir(), "casegate")
	if err := os.WriteFile(binFile, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(binFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/casegate has an ELF interpreter: it is not static (CGO_ENABLED=0)")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("/casegate needs shared libraries %q (%v)", libs, err)
	}
	f.Close()
	out, err := exec.CommandContext(t.Context(), binFile, "version").Output()
	if err != nil || !strings.Contains(string(out), revision) {
		t.Errorf("casegate version from the image: %q %v, want the revision %s", out, err, revision)
	}
}

// toolchainContext writes a build context for a Go toolchain image made of
// this machine's GOROOT (hard links where it can), CA certificates and an
// empty /tmp, and returns its Containerfile's path.
func toolchainContext(t *testing.T) string {
	t.Helper()
	if p := toolchainFile; p != "" {
		return p
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr", "local"), 0o755); err != nil {
		t.Fatal(err)
	}
	goroot := goEnv(t, "GOROOT")
	if err := exec.Command("cp", "-al", goroot, filepath.Join(dir, "usr", "local", "go")).Run(); err != nil {
		os.RemoveAll(filepath.Join(dir, "usr", "local", "go"))
		if out, err := exec.Command("cp", "-a", goroot, filepath.Join(dir, "usr", "local", "go")).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", goroot, err, out)
		}
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("CA certificates for the toolchain image: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc", "ssl", "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "ssl", "certs", "ca-certificates.crt"), certs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	toolchainFile = filepath.Join(dir, "Containerfile")
	recipe := "FROM scratch\nCOPY . /\nENV PATH=/usr/local/go/bin HOME=/root GOPATH=/go GOTOOLCHAIN=local\n"
	if err := os.WriteFile(toolchainFile, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".containerignore"), []byte("Containerfile\n.containerignore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return toolchainFile
}

var toolchainFile string

// goEnv is `go env name`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("go env %s: %q %v", name, out, err)
	}
	return string(bytes.TrimSpace(out))
}

// listImage reads an exported file system: every entry's header by name
// (folders end in /), and the content of casegate.
func listImage(t *testing.T, path string) (map[string]*tar.Header, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]*tar.Header{}
	var bin []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		files[name] = h
		if name == "casegate" {
			if bin, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return files, bin
}

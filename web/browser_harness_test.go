package web_test

// The browser tests drive Debian's Chromium through chromedp against a whole
// casegate in demo mode. One browser serves the whole test binary; every test
// opens its tabs in a browser context of its own (its own cookies). They skip
// with a reason when Chromium or axe-core is missing, and fail instead when
// CASEGATE_TEST_REQUIRE says so (see internal/testenv).

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/casegate/casegate/internal/testenv"
)

// browserTestTimeout bounds one browser test, every tab included.
const browserTestTimeout = 60 * time.Second

// chrome is the browser every browser test shares, started by the first.
var chrome struct {
	once sync.Once
	ctx  context.Context
	stop func()
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.stop != nil {
		chrome.stop()
	}
	os.Exit(code)
}

// sharedBrowser returns the shared browser, starting it at the first call.
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	testenv.AxeScript(t) // every browser test runs axe: skip early, before starting anything
	chrome.once.Do(func() { chrome.ctx, chrome.stop, chrome.err = startChromium(path) })
	if chrome.err != nil {
		t.Fatalf("starting Chromium %s: %v", path, chrome.err)
	}
	return chrome.ctx
}

func startChromium(path string) (context.Context, func(), error) {
	dir, err := os.MkdirTemp("", "casegate-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	stop := func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
		os.RemoveAll(dir)
	}
	// The first Run starts the browser; its context must not time out, or the
	// browser would end with it. chromedp bounds the start itself (20 s).
	if err := chromedp.Run(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return ctx, stop, nil
}

// tabOptions set up a tab before its first page.
type tabOptions struct {
	noJS bool   // JavaScript off, as some people browse
	lang string // the language the pages should be in; "en" when empty
}

// browserTab is one browser tab of one test, with what it saw: dialogs, console
// errors, and the response of every page it loaded.
type browserTab struct {
	t      *testing.T
	ctx    context.Context // bounded by the test's timeout
	base   string          // the portal, http://host:port
	opts   tabOptions
	bc     cdp.BrowserContextID
	shots  int // pages checked so far, to number the screenshots
	axeSrc string

	mu          sync.Mutex
	dialogs     []string
	problems    []string
	docs        []*network.Response
	noFocusRing map[string]bool // elements reported without a visible focus
}

// openTab opens a tab in a browser context of its own, closed with the test.
func openTab(t *testing.T, base string, opts tabOptions) *browserTab {
	t.Helper()
	bctx := sharedBrowser(t)
	cleanScreenshots(t)
	var bc cdp.BrowserContextID
	err := chromedp.Run(bctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		bc, err = target.CreateBrowserContext().WithDisposeOnDetach(true).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		return err
	}))
	if err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	t.Cleanup(func() {
		chromedp.Run(bctx, chromedp.ActionFunc(func(ctx context.Context) error {
			return target.DisposeBrowserContext(bc).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}))
	})
	return newTabIn(t, base, opts, bc)
}

// sibling opens a second tab in the same browser context: same cookies, as a
// person's second tab.
func (b *browserTab) sibling() *browserTab {
	b.t.Helper()
	s := newTabIn(b.t, b.base, b.opts, b.bc)
	s.shots = 50 // its screenshots sort after the first tab's
	return s
}

func newTabIn(t *testing.T, base string, opts tabOptions, bc cdp.BrowserContextID) *browserTab {
	t.Helper()
	if opts.lang == "" {
		opts.lang = "en"
	}
	bctx := sharedBrowser(t)
	var id target.ID
	err := chromedp.Run(bctx, chromedp.ActionFunc(func(ctx context.Context) error {
		// A new window: Chromium's headless mode has no window to put a plain
		// new tab of a fresh browser context in.
		var err error
		id, err = target.CreateTarget("about:blank").WithBrowserContextID(bc).WithNewWindow(true).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		return err
	}))
	if err != nil {
		t.Fatalf("new tab: %v", err)
	}
	tctx, cancelTab := chromedp.NewContext(bctx, chromedp.WithTargetID(id))
	if err := chromedp.Run(tctx); err != nil {
		cancelTab()
		t.Fatalf("attach tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tctx, browserTestTimeout)
	t.Cleanup(func() { cancel(); cancelTab() })
	src, err := os.ReadFile(testenv.AxeScript(t))
	if err != nil {
		t.Fatal(err)
	}
	b := &browserTab{t: t, ctx: ctx, base: base, opts: opts, bc: bc, axeSrc: string(src), noFocusRing: map[string]bool{}}
	chromedp.ListenTarget(ctx, b.observe)
	if opts.noJS {
		b.run(emulation.SetScriptExecutionDisabled(true))
	}
	return b
}

// observe records what the page does behind the test's back.
func (b *browserTab) observe(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *cdppage.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s %q on %s", ev.Type, ev.Message, ev.URL))
		go chromedp.Run(b.ctx, cdppage.HandleJavaScriptDialog(false))
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "uncaught exception: "+ev.ExceptionDetails.Error())
	case *cdplog.EventEntryAdded:
		// Failed loads are judged by the status checks; the rest — CSP
		// violations, script errors — are faults of the page.
		if ev.Entry.Level == cdplog.LevelError && ev.Entry.Source != cdplog.SourceNetwork {
			b.problems = append(b.problems, fmt.Sprintf("console %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			b.docs = append(b.docs, ev.Response)
		}
	}
}

// run runs actions in the tab and ends the test on error.
func (b *browserTab) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// navigate loads path as if typed into the address bar, without checking the page.
func (b *browserTab) navigate(path string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(b.base+path))
	if err != nil {
		b.t.Fatalf("navigate to %s: %v", path, err)
	}
	return resp
}

// open loads path and checks the page it ends on, named name.
func (b *browserTab) open(path, name string) *network.Response {
	b.t.Helper()
	resp := b.navigate(path)
	b.check(name)
	return resp
}

// follow runs actions that lead to a new page (a click, Enter, the back
// button), waits for it, and checks it.
func (b *browserTab) follow(name string, actions ...chromedp.Action) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("going to page %q: %v", name, err)
	}
	b.check(name)
	return resp
}

// back presses the browser's back button, checks the page it shows and
// reports whether the browser restored it from its back/forward cache
// (without asking the server). Such a page sends no load event, so this
// waits for the main frame to change documents instead.
func (b *browserTab) back(name string) (restored bool) {
	b.t.Helper()
	navigated := make(chan bool, 1)
	lctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	chromedp.ListenTarget(lctx, func(ev any) {
		if e, ok := ev.(*cdppage.EventFrameNavigated); ok && e.Frame.ParentID == "" {
			select {
			case navigated <- e.Type == cdppage.NavigationTypeBackForwardCacheRestore:
			default:
			}
		}
	})
	b.run(chromedp.ActionFunc(func(ctx context.Context) error {
		cur, entries, err := cdppage.GetNavigationHistory().Do(ctx)
		if err != nil {
			return err
		}
		if cur < 1 {
			return fmt.Errorf("no page to go back to")
		}
		return cdppage.NavigateToHistoryEntry(entries[cur-1].ID).Do(ctx)
	}))
	select {
	case restored = <-navigated:
	case <-time.After(10 * time.Second):
		b.t.Fatalf("the back button led nowhere in 10 s")
	}
	var err error
	if !testenv.Eventually(10*time.Second, func() bool {
		var complete bool
		err = chromedp.Run(b.ctx, chromedp.Evaluate(`document.readyState === 'complete'`, &complete))
		return err == nil && complete
	}) {
		b.t.Fatalf("the page after the back button never finished loading: %v", err)
	}
	b.check(name)
	return restored
}

// click clicks the element sel and checks the page that follows.
func (b *browserTab) click(sel, name string) *network.Response {
	b.t.Helper()
	return b.follow(name, chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

// press sends key events to the focused element and checks the page that follows.
func (b *browserTab) press(keys, name string) *network.Response {
	b.t.Helper()
	return b.follow(name, chromedp.KeyEvent(keys))
}

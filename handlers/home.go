package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// homeRecent is how many poll runs the home page lists (SPEC §2.3).
const homeRecent = 5

// homeTop is how many panels and cohorts "most active" lists.
const homeTop = 5

// etagPlaceholder stands for the live fragment's own ETag while the fragment
// is rendered to compute it (the fragment carries it in hx-headers).
const etagPlaceholder = "0etag0placeholder0"

// homeData is the home page: the live part (refreshed every 60 s) and the
// start form.
type homeData struct {
	NoPanels      bool
	Recent        []models.RecentPollrun
	ActivePanels  []models.ActiveCount
	ActiveCohorts []models.ActiveCount
	// HXHeaders is the hx-headers of the live fragment: If-None-Match with
	// its ETag, so an unchanged refresh is a 304 that htmx does not swap.
	HXHeaders string
	Start     *startFormData // nil: no start form (not a supervisor, or no panel selected)
	// Indicators are the recent indicators with the featured one (nil: none,
	// or the live fragment, which leaves them out).
	Indicators *homeIndicators
}

// startFormData is the "Start…" form of the selected panel.
type startFormData struct {
	Panel     *models.Region
	HasSub    bool
	Polls     []models.Poll
	Poll      int64 // chosen poll (after an invalid submission)
	Propagate bool
	Open      bool // unfolded (after an invalid submission)
}

// homeLoad reads the home page's data for the request's scope.
func (h *Handlers) homeLoad(c *fiber.Ctx) (*homeData, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	d := &homeData{NoPanels: rc.scope == nil || len(rc.scope.UserPanels) == 0}
	if rc.scope == nil {
		return d, nil
	}
	var err error
	if d.Recent, err = h.DB.RecentPollruns(ctx, rc.scope, homeRecent); err != nil {
		return nil, err
	}
	if d.ActivePanels, d.ActiveCohorts, err = h.DB.MostActive(ctx, rc.scope, time.Now().Add(-models.ActivityWindow), homeTop); err != nil {
		return nil, err
	}
	if rc.atLeast(models.RoleSupervisor) && rc.scope.Selected != 0 {
		panel := rc.scope.SelectedPanel()
		polls, err := h.DB.ListPolls(ctx, rc.org.ID, true)
		if err != nil {
			return nil, err
		}
		has := rc.scope.Tree.HasChildren(panel.ID)
		d.Start = &startFormData{Panel: panel, HasSub: has, Polls: polls, Propagate: has}
	}
	return d, nil
}

// homeIndex is the home page (SPEC §2.3): the most recent poll runs in
// scope, the most active panels and cohorts of the last 30 days, and the
// "Start…" form for the selected panel. htmx refreshes the live part every
// 60 s; the fragment carries a strong ETag and an unchanged one is a 304.
func (h *Handlers) homeIndex(c *fiber.Ctx) error {
	d, err := h.homeLoad(c)
	if err != nil {
		return err
	}
	if !isFragment(c) && getRC(c).scope != nil {
		if d.Indicators, err = h.homeIndicatorsLoad(c); err != nil {
			return err
		}
	}
	return h.homeRender(c, fiber.StatusOK, d, nil)
}

// homeRender renders the home page (or its live fragment) with errors.
func (h *Handlers) homeRender(c *fiber.Ctx, status int, d *homeData, errs map[string]string) error {
	rc := getRC(c)
	p := h.page(c, rc.cat.T("Home"), d)
	p.Errors = errs
	d.HXHeaders = `{"If-None-Match":"\"` + etagPlaceholder + `\""}`
	var buf bytes.Buffer
	if err := c.App().Config().Views.Render(&buf, "home/live", p); err != nil {
		return err
	}
	sum := sha256.Sum256(buf.Bytes())
	tag := hex.EncodeToString(sum[:16])
	d.HXHeaders = strings.Replace(d.HXHeaders, etagPlaceholder, tag, 1)
	if status != fiber.StatusOK || !isFragment(c) {
		return h.render(c, status, "home/index", p)
	}
	frag := bytes.Replace(buf.Bytes(), []byte(etagPlaceholder), []byte(tag), 1)
	c.Vary("HX-Request")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderETag, `"`+tag+`"`)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), tag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(fiber.StatusOK).Send(frag)
}

// etagMatches reports whether an If-None-Match header names tag (weak
// comparison, as RFC 9110 requires for If-None-Match).
func etagMatches(header, tag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == `"`+tag+`"` {
			return true
		}
	}
	return false
}

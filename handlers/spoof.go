package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Spoof data (SPEC §3.6, /indicators/data_spoof/ and /indicators/clear_spoof/):
// only while the org's show_spoof_data is on; otherwise both routes are 404,
// as if the feature did not exist for the org. Supervisors may spoof answers
// for the contacts of their panels.

// spoofQuestion is a numeric question with its poll's name, for the pickers.
type spoofQuestion struct {
	ID   int64
	Name string
}

// spoofPoll is a tracked poll with its numeric questions.
type spoofPoll struct {
	Name      string
	Questions []spoofQuestion
}

// spoofFormData is the spoof data form.
type spoofFormData struct {
	In       models.SpoofInput
	Chosen   map[int64]bool // chosen contacts
	Contacts []models.SpoofContact
	More     bool // the panels have more contacts than the list shows
	Polls    []spoofPoll
}

// spoofListed bounds the contacts the form lists (a phone-sized page).
const spoofListed = 500

// requireSpoof answers 404 unless the org shows spoof data.
func requireSpoof(c *fiber.Ctx) error {
	if !getRC(c).org.ShowSpoofData {
		return fiber.ErrNotFound
	}
	return nil
}

// renderSpoofForm renders the form with the errors of err.
func (h *Handlers) renderSpoofForm(c *fiber.Ctx, d *spoofFormData, err error) error {
	rc := getRC(c)
	ctx := c.UserContext()
	var lerr error
	if d.Contacts, d.More, lerr = h.DB.SpoofContacts(ctx, rc.scope, spoofListed); lerr != nil {
		return lerr
	}
	polls, lerr := h.DB.ListPolls(ctx, rc.org.ID, true)
	if lerr != nil {
		return lerr
	}
	for _, p := range polls {
		qs, lerr := h.DB.IndicatorQuestions(ctx, rc.org.ID, p.ID)
		if lerr != nil {
			return lerr
		}
		sp := spoofPoll{Name: p.DisplayName()}
		for _, q := range qs {
			sp.Questions = append(sp.Questions, spoofQuestion{ID: q.ID, Name: q.DisplayName()})
		}
		if len(sp.Questions) > 0 {
			d.Polls = append(d.Polls, sp)
		}
	}
	p := h.page(c, rc.cat.T("Spoof data"), d)
	status := fiber.StatusOK
	if err != nil {
		p.Errors = formErrors(rc, err)
		status = fiber.StatusUnprocessableEntity
	}
	return h.render(c, status, "indicators/spoof", p)
}

// spoofForm shows the spoof data form.
func (h *Handlers) spoofForm(c *fiber.Ctx) error {
	if err := requireSpoof(c); err != nil {
		return err
	}
	d := &spoofFormData{Chosen: map[int64]bool{}, In: models.SpoofInput{BaselineMin: "0", BaselineMax: "10", FollowUpMin: "0", FollowUpMax: "10"}}
	return h.renderSpoofForm(c, d, nil)
}

// spoofCreate makes the spoofed poll runs and goes back to the indicators.
func (h *Handlers) spoofCreate(c *fiber.Ctx) error {
	if err := requireSpoof(c); err != nil {
		return err
	}
	rc := getRC(c)
	in := models.SpoofInput{StartDate: c.FormValue("start_date"), EndDate: c.FormValue("end_date"),
		BaselineQuestionID: formInt(c.FormValue("baseline_question")), FollowUpQuestionID: formInt(c.FormValue("follow_up_question")),
		BaselineMin: c.FormValue("baseline_min"), BaselineMax: c.FormValue("baseline_max"),
		FollowUpMin: c.FormValue("follow_up_min"), FollowUpMax: c.FormValue("follow_up_max")}
	d := &spoofFormData{Chosen: map[int64]bool{}}
	for _, v := range c.Request().PostArgs().PeekMulti("contacts") {
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || id <= 0 {
			in.Contacts = append(in.Contacts, 0) // not a contact: refused by validation
			continue
		}
		in.Contacts = append(in.Contacts, id)
		d.Chosen[id] = true
	}
	d.In = in
	var uid int64
	if rc.user != nil {
		uid = rc.user.ID
	}
	res, err := h.DB.CreateSpoofData(c.UserContext(), rc.org, rc.scope, in, nil, uid)
	if err != nil {
		if isInputError(err) {
			return h.renderSpoofForm(c, d, err)
		}
		return err
	}
	flash(c, "success", rc.cat.N("Spoofed %d poll run.", "Spoofed %d poll runs.", res.Pollruns, res.Pollruns))
	return redirect(c, "/indicators/")
}

// spoofClear deletes every spoofed poll run of the org (confirm=1 required,
// anything else is a 400 and deletes nothing).
func (h *Handlers) spoofClear(c *fiber.Ctx) error {
	if err := requireSpoof(c); err != nil {
		return err
	}
	rc := getRC(c)
	if c.FormValue("confirm") != "1" {
		return fiber.NewError(fiber.StatusBadRequest, rc.cat.T("Confirm the deletion."))
	}
	n, err := h.DB.ClearSpoofData(c.UserContext(), rc.org.ID)
	if err != nil {
		return err
	}
	flash(c, "success", rc.cat.N("Deleted %d spoofed poll run.", "Deleted %d spoofed poll runs.", n, n))
	return redirect(c, "/indicators/")
}

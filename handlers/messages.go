package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Messages (SPEC §2.3 /message/…): "Send message…" from a poll run's
// Participation tab — compose, a confirmation that shows how many contacts
// the message reaches (each once), then the send, which queues broadcasts of
// 100 contacts in the outbox — the message log (administrators) and the
// messages a contact received.

// pollrunMessagesShown is how many recent messages the Participation tab lists.
const pollrunMessagesShown = 5

// messageForm is the compose form and its confirmation.
type messageForm struct {
	PollrunID  int64
	Recipients string // A, R, N
	CohortID   int64
	Text       string
	Counts     models.RecipientCounts
	Cohorts    []models.FilterCohort

	Confirm bool   // the confirmation step
	Count   int    // contacts the message reaches
	Cohort  string // name of the chosen cohort
	Label   string // the recipients, translated
}

// messageSendData is the send page (compose or confirmation).
type messageSendData struct {
	Run  *models.PollrunRow
	Send *messageForm
}

// msgRecipientsLabel translates a recipient type.
func msgRecipientsLabel(rc *reqCtx, kind string) string {
	switch kind {
	case models.RecipientsAll:
		return rc.cat.T("All")
	case models.RecipientsRespondents:
		return rc.cat.T("Respondents")
	case models.RecipientsNonRespondents:
		return rc.cat.T("Non-respondents")
	case models.RecipientsContact:
		return rc.cat.T("Reply")
	}
	return kind
}

// msgStateLabel translates a delivery state.
func msgStateLabel(rc *reqCtx, state string) string {
	switch state {
	case models.BatchPending:
		return rc.cat.T("Pending")
	case models.BatchSent:
		return rc.cat.T("Sent")
	case models.BatchFailed:
		return rc.cat.T("Failed")
	case models.BatchUnknown:
		return rc.cat.T("Outcome unknown")
	case "partly":
		return rc.cat.T("Partly sent")
	}
	return state
}

// messageView is a message row with its labels.
type messageView struct {
	models.MessageRow
	State, StateLabel, RecipientsLabel string
}

func messageViews(rc *reqCtx, rows []models.MessageRow) []messageView {
	out := make([]messageView, len(rows))
	for i, r := range rows {
		st := r.Status.State()
		out[i] = messageView{MessageRow: r, State: st, StateLabel: msgStateLabel(rc, st), RecipientsLabel: msgRecipientsLabel(rc, r.Recipients)}
	}
	return out
}

// newMessageForm is the compose form of a poll run: the recipient counts in
// the scope (and cohort) and the cohorts to choose from.
func (h *Handlers) newMessageForm(c *fiber.Ctx, pollrunID int64, recipients string, cohortID int64, text string) (*messageForm, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	f := &messageForm{PollrunID: pollrunID, Recipients: recipients, CohortID: cohortID, Text: text}
	if f.Recipients == "" {
		f.Recipients = models.RecipientsNonRespondents
	}
	var err error
	if f.Cohorts, err = h.DB.FilterCohorts(ctx, rc.org.ID); err != nil {
		return nil, err
	}
	var counted int64 // an unknown cohort: the form says so, and counts everyone
	for _, co := range f.Cohorts {
		if co.ID == cohortID {
			f.Cohort, counted = co.Name, co.ID
		}
	}
	f.Counts, err = h.DB.MessageRecipients(ctx, rc.scope, pollrunID, counted)
	f.Label = msgRecipientsLabel(rc, f.Recipients)
	return f, err
}

// readMessageForm reads pollrun, recipients, cohort and text from the query
// (GET) or the form (POST). A pollrun that is no number is not found.
func readMessageForm(c *fiber.Ctx) (pollrun int64, recipients string, cohort int64, text string, err error) {
	get := c.FormValue
	if c.Method() == fiber.MethodGet {
		get = func(k string, def ...string) string { return c.Query(k) }
	}
	pollrun, perr := strconv.ParseInt(strings.TrimSpace(get("pollrun")), 10, 64)
	if perr != nil || pollrun <= 0 {
		return 0, "", 0, "", fiber.ErrNotFound
	}
	if v := strings.TrimSpace(get("cohort")); v != "" {
		if cohort, perr = strconv.ParseInt(v, 10, 64); perr != nil {
			cohort = -1 // not a cohort: refused with a message
		}
	}
	return pollrun, strings.TrimSpace(get("recipients")), cohort, get("text"), nil
}

// messageSendPage renders the send page: the compose form (status 422 with
// the errors) or the confirmation.
func (h *Handlers) messageSendPage(c *fiber.Ctx, status int, f *messageForm, errs map[string]string) error {
	rc := getRC(c)
	run, err := h.DB.PollrunHeader(c.UserContext(), rc.org.ID, f.PollrunID, rc.scope)
	if err != nil {
		return notFound(err)
	}
	p := h.page(c, rc.cat.T("Send message"), &messageSendData{Run: run, Send: f})
	p.Errors = errs
	view := "messages/send"
	if isFragment(c) {
		view = "messages/compose" // swapped in place of the compose form
	}
	return h.render(c, status, view, p)
}

// messageConfirm is the confirmation step (GET /message/send/): the text,
// who receives it and how many contacts that is, and the button that sends
// it. Invalid input shows the compose form again with 422.
func (h *Handlers) messageConfirm(c *fiber.Ctx) error {
	rc := getRC(c)
	pollrun, recipients, cohort, text, err := readMessageForm(c)
	if err != nil {
		return err
	}
	in := models.MessageSend{Org: rc.org, Scope: rc.scope, PollrunID: pollrun, Recipients: recipients, CohortID: cohort, Text: text}
	cerr := h.DB.CheckMessage(c.UserContext(), &in)
	if models.ErrorCode(cerr) == models.CodeNotFound {
		return fiber.ErrNotFound
	}
	f, err := h.newMessageForm(c, pollrun, recipients, max(cohort, 0), text)
	if err != nil {
		return notFound(err)
	}
	if cerr != nil {
		if models.ErrorCode(cerr) != models.CodeInvalid {
			return cerr
		}
		return h.messageSendPage(c, fiber.StatusUnprocessableEntity, f, fieldErrors(rc, cerr))
	}
	f.Text, f.Count, f.Confirm = in.Text, f.Counts.Of(recipients), true
	if f.Count == 0 {
		f.Confirm = false
		return h.messageSendPage(c, fiber.StatusUnprocessableEntity, f,
			map[string]string{"recipients": rc.cat.T("Nobody to send to: no contact in your panels matches.")})
	}
	return h.messageSendPage(c, fiber.StatusOK, f, nil)
}

// messageSend records the message and queues its broadcasts (POST
// /message/send/), then goes back to the poll run's Participation tab,
// where the message's delivery shows.
func (h *Handlers) messageSend(c *fiber.Ctx) error {
	rc := getRC(c)
	pollrun, recipients, cohort, text, err := readMessageForm(c)
	if err != nil {
		return err
	}
	var by int64
	if rc.user != nil {
		by = rc.user.ID
	}
	res, err := h.DB.SendMessage(c.UserContext(), models.MessageSend{Org: rc.org, Scope: rc.scope, PollrunID: pollrun, Recipients: recipients,
		CohortID: cohort, Text: text, UserID: by})
	switch models.ErrorCode(err) {
	case "":
	case models.CodeNotFound:
		return fiber.ErrNotFound
	case models.CodeInvalid:
		f, ferr := h.newMessageForm(c, pollrun, recipients, max(cohort, 0), text)
		if ferr != nil {
			return notFound(ferr)
		}
		return h.messageSendPage(c, fiber.StatusUnprocessableEntity, f, fieldErrors(rc, err))
	default:
		return err
	}
	flash(c, "success", rc.cat.N("Message queued for %d contact.", "Message queued for %d contacts.", res.Contacts))
	return redirect(c, "/pollrun/participation/"+strconv.FormatInt(pollrun, 10)+"/")
}

// messageListData is the message log.
type messageListData struct {
	Rows  []messageView
	Pager pager
}

// messageList is the message log (administrators): every message in the
// scope, newest first, with its delivery.
func (h *Handlers) messageList(c *fiber.Ctx) error {
	rc := getRC(c)
	page := listPage(c)
	rows, total, err := h.DB.ListMessages(c.UserContext(), rc.scope, page, perPage)
	if err == nil && page > lastPage(total) {
		page = lastPage(total)
		rows, total, err = h.DB.ListMessages(c.UserContext(), rc.scope, page, perPage)
	}
	if err != nil {
		return err
	}
	d := messageListData{Rows: messageViews(rc, rows), Pager: newPager(page, total, "/message/?")}
	return h.render(c, fiber.StatusOK, "messages/list", h.page(c, rc.cat.T("Message log"), d))
}

// contactMessageView is a message a contact received, with its labels.
type contactMessageView struct {
	models.ContactMessage
	StateLabel, RecipientsLabel string
}

// contactMessagesData is the messages-by-contact page.
type contactMessagesData struct {
	Contact  *models.ContactInScope
	Messages []contactMessageView
}

// Tab is the contact page's tab this page is (templates/contacts/tabs.html).
func (contactMessagesData) Tab() string { return "messages" }

// messageByContact is the contact page's Messages tab: the messages a
// contact in the scope received, newest first, with the delivery of each.
// Contacts outside the scope are not found.
func (h *Handlers) messageByContact(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ct, ms, err := h.DB.ContactMessages(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return notFound(err)
	}
	d := contactMessagesData{Contact: ct}
	for _, m := range ms {
		d.Messages = append(d.Messages, contactMessageView{ContactMessage: m, StateLabel: msgStateLabel(rc, m.Status), RecipientsLabel: msgRecipientsLabel(rc, m.Recipients)})
	}
	return h.render(c, fiber.StatusOK, "messages/by_contact", h.page(c, nameOr(ct.Name, ct.URN), d))
}

// nameOr returns a unless it is empty, else b.
func nameOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

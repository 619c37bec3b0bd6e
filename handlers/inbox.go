package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Inbox (SPEC §2.3 /inboxmessage/…): the conversations of the active contacts
// in the scope with new (unarchived unsolicited incoming) messages, each with
// the contact's latest message in either direction; a contact's conversation
// (newest first) and a reply, which goes through the outbox like any message
// and shows at once as pending.

// inboxData is the inbox list.
type inboxData struct {
	Rows  []models.InboxEntry
	Pager pager
}

// inboxList lists the conversations with new messages in the scope.
func (h *Handlers) inboxList(c *fiber.Ctx) error {
	rc := getRC(c)
	page := listPage(c)
	rows, total, err := h.DB.Inbox(c.UserContext(), rc.scope, page, perPage)
	if err == nil && page > lastPage(total) {
		page = lastPage(total)
		rows, total, err = h.DB.Inbox(c.UserContext(), rc.scope, page, perPage)
	}
	if err != nil {
		return err
	}
	d := inboxData{Rows: rows, Pager: newPager(page, total, "/inboxmessage/?")}
	return h.render(c, fiber.StatusOK, "inbox/list", h.page(c, rc.cat.T("Inbox"), d))
}

// conversationItem is a message of the conversation with its label.
type conversationItem struct {
	models.ConversationItem
	StateLabel string
}

// conversationData is a contact's conversation and the reply form.
type conversationData struct {
	Contact *models.ContactInScope
	Items   []conversationItem
	Text    string // the reply, when refused
}

// inboxConversationPage renders a contact's conversation (NotFound outside
// the scope).
func (h *Handlers) inboxConversationPage(c *fiber.Ctx, status int, text string, errs map[string]string) error {
	rc := getRC(c)
	id, err := paramID(c, "contact_id")
	if err != nil {
		return err
	}
	ct, items, err := h.DB.Conversation(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return notFound(err)
	}
	d := conversationData{Contact: ct, Text: text}
	for _, it := range items {
		label := ""
		if it.FromUs {
			label = msgStateLabel(rc, it.Status)
		}
		d.Items = append(d.Items, conversationItem{ConversationItem: it, StateLabel: label})
	}
	p := h.page(c, nameOr(ct.Name, ct.URN), d)
	p.Errors = errs
	return h.render(c, status, "inbox/conversation", p)
}

// inboxConversation shows a contact's conversation and the reply form.
func (h *Handlers) inboxConversation(c *fiber.Ctx) error {
	return h.inboxConversationPage(c, fiber.StatusOK, "", nil)
}

// inboxReply queues a reply to the contact through the outbox. htmx gets the
// conversation back with the reply on top, pending; a plain POST goes back to
// the conversation (303).
func (h *Handlers) inboxReply(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := paramID(c, "contact_id")
	if err != nil {
		return err
	}
	var by int64
	if rc.user != nil {
		by = rc.user.ID
	}
	text := c.FormValue("text")
	_, err = h.DB.SendReply(c.UserContext(), rc.org, rc.scope, id, by, text)
	switch models.ErrorCode(err) {
	case "":
	case models.CodeNotFound:
		return fiber.ErrNotFound
	case models.CodeInvalid:
		return h.inboxConversationPage(c, fiber.StatusUnprocessableEntity, text, fieldErrors(rc, err))
	default:
		return err
	}
	if isFragment(c) {
		return h.inboxConversationPage(c, fiber.StatusOK, "", nil)
	}
	flash(c, "success", rc.cat.T("Reply queued."))
	return redirect(c, "/inboxmessage/conversation/"+strconv.FormatInt(id, 10)+"/")
}

// inboxArchive archives a contact's incoming messages (it leaves the inbox
// until it writes again) and goes back to the inbox.
func (h *Handlers) inboxArchive(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := paramID(c, "contact_id")
	if err != nil {
		return err
	}
	if _, err := h.DB.ArchiveConversation(c.UserContext(), rc.org.ID, id, rc.scope); err != nil {
		return notFound(err)
	}
	flash(c, "success", rc.cat.T("Conversation archived."))
	return redirect(c, "/inboxmessage/")
}

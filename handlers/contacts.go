package handlers

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Contacts (SPEC §2.3 /contact/…, §2.4 the form): supervisors and
// administrators list, create, read, edit and delete the contacts of their
// own panels. Contacts outside the scope are not found; every change is
// saved with its RapidPro push in the outbox (models/contact_edit.go).

// urnLookupTimeout bounds the in-request URN check against RapidPro.
const urnLookupTimeout = 5 * time.Second

// contactListData is the contact list.
type contactListData struct {
	Search string
	Page   *models.ContactPage
	Pager  pager
}

// contactList lists the contacts in scope, searchable by name or URN.
func (h *Handlers) contactList(c *fiber.Ctx) error {
	rc := getRC(c)
	search := strings.TrimSpace(c.Query("search"))
	page := listPage(c)
	list := func() (*models.ContactPage, error) {
		return h.DB.ListContactPage(c.UserContext(), rc.org.ID, rc.scope, search, models.OrgCountry(rc.org), page, perPage)
	}
	cp, err := list()
	if err == nil && page > lastPage(cp.Total) {
		page = lastPage(cp.Total)
		cp, err = list()
	}
	if err != nil {
		return err
	}
	base := "/contact/?"
	if search != "" {
		base += "search=" + url.QueryEscape(search) + "&"
	}
	d := contactListData{Search: search, Page: cp, Pager: newPager(page, cp.Total, base)}
	return h.render(c, fiber.StatusOK, "contacts/list", h.page(c, rc.cat.T("Contacts"), d))
}

// contactFormData is what templates/contacts/form.html shows.
type contactFormData struct {
	Create    bool
	ID        int64
	Name      string
	Scheme    string
	Value     string
	Region    int64
	Cohorts   map[int64]bool
	Language  string
	Fields    map[string]string
	Panels    []models.ScopedPanel
	Choices   []models.FilterCohort // active cohorts
	FieldDefs []models.DataField
	Schemes   []string
	Languages []models.Language
}

// fieldInputType is the input type of a data field's value type.
func (d contactFormData) FieldInputType(valueType string) string {
	switch valueType {
	case "N":
		return "number"
	case "D":
		return "date"
	}
	return "text"
}

// FieldValue is the form value of a field (a date keeps its YYYY-MM-DD part).
func (d contactFormData) FieldValue(f models.DataField) string {
	v := d.Fields[f.Key]
	if f.ValueType == "D" && len(v) > 10 {
		return v[:10]
	}
	return v
}

// renderContactForm shows the form, with messages when errs is not empty.
func (h *Handlers) renderContactForm(c *fiber.Ctx, d contactFormData, errs map[string]string) error {
	rc := getRC(c)
	ctx := c.UserContext()
	d.Panels = rc.scope.UserPanelList()
	var err error
	if d.Choices, err = h.DB.FilterCohorts(ctx, rc.org.ID); err != nil {
		return err
	}
	if d.FieldDefs, err = h.DB.VisibleFields(ctx, rc.org.ID); err != nil {
		return err
	}
	d.Schemes, d.Languages = models.ContactURNSchemes, models.ContactLanguages
	title := rc.cat.T("Edit contact")
	if d.Create {
		title = rc.cat.T("New contact")
	}
	p := h.page(c, title, d)
	status := fiber.StatusOK
	if len(errs) > 0 {
		p.Errors = errs
		status = fiber.StatusUnprocessableEntity
	}
	return h.render(c, status, "contacts/form", p)
}

// readContactForm reads the submitted form.
func readContactForm(c *fiber.Ctx, d *contactFormData) models.ContactInput {
	rc := getRC(c)
	d.Name = strings.TrimSpace(c.FormValue("name"))
	d.Scheme = c.FormValue("scheme")
	d.Value = strings.TrimSpace(c.FormValue("urn"))
	d.Language = strings.TrimSpace(c.FormValue("language"))
	d.Region, _ = strconv.ParseInt(c.FormValue("region"), 10, 64)
	d.Cohorts, d.Fields = map[int64]bool{}, map[string]string{}
	in := models.ContactInput{Name: d.Name, Scheme: d.Scheme, Path: d.Value, RegionID: d.Region, Language: d.Language,
		Fields: d.Fields, UserID: rc.user.ID}
	for _, v := range c.Request().PostArgs().PeekMulti("cohorts") {
		if len(v) == 0 {
			continue
		}
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			id = -1 // refused by the validation
		}
		d.Cohorts[id] = true
		in.Cohorts = append(in.Cohorts, id)
	}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if key, ok := strings.CutPrefix(string(k), "field_"); ok {
			d.Fields[key] = string(v)
		}
	})
	return in
}

// translateErrors translates the model's messages.
func translateErrors(rc *reqCtx, err error) (map[string]string, bool) {
	var fe models.FormErrors
	if errors.As(err, &fe) {
		out := make(map[string]string, len(fe))
		for k, v := range fe {
			out[k] = rc.cat.T(v)
		}
		return out, true
	}
	if isInputError(err) {
		return fieldErrors(rc, err), true
	}
	return nil, false
}

// checkURNInRapidPro looks the URN up in RapidPro (SPEC §2.4): a message
// for the "urn" field when another RapidPro contact has it, or reachable =
// false when RapidPro could not be asked (the save goes on; its push waits
// in the outbox).
func (h *Handlers) checkURNInRapidPro(ctx context.Context, org *models.Org, urn, selfUUID string) (taken bool, reachable bool) {
	if h.Syncer == nil || org.APIToken == "" {
		return false, false
	}
	ctx, cancel := context.WithTimeout(ctx, urnLookupTimeout)
	defer cancel()
	found, err := h.Syncer.PageClient(org.RapidProURL, org.APIToken, org.ID, 1, urnLookupTimeout).ContactByURN(ctx, urn)
	if err != nil {
		h.Log.Warn("contact form: RapidPro URN lookup failed", "org", org.ID, "err", err)
		return false, false
	}
	return found != nil && found.UUID != selfUUID, true
}

// saveContact validates, checks the URN in RapidPro and saves (create when
// id is 0). It returns the contact id, or the form's messages.
func (h *Handlers) saveContact(c *fiber.Ctx, id int64, in models.ContactInput, selfUUID, oldURN string) (int64, map[string]string, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	if err := h.DB.ValidateContact(ctx, rc.org, rc.scope, id, in); err != nil {
		if errs, ok := translateErrors(rc, err); ok {
			return 0, errs, nil
		}
		return 0, nil, err
	}
	urn, _ := models.NormalizeURN(in.Scheme, in.Path, models.OrgCountry(rc.org))
	reachable := true
	if urn != oldURN {
		var taken bool
		taken, reachable = h.checkURNInRapidPro(ctx, rc.org, urn, selfUUID)
		if taken {
			return 0, map[string]string{"urn": rc.cat.T("This phone number or ID belongs to another contact in RapidPro.")}, nil
		}
	}
	var err error
	if id == 0 {
		id, err = h.DB.CreateContact(ctx, rc.org, rc.scope, in)
	} else {
		err = h.DB.UpdateContact(ctx, rc.org, rc.scope, id, in)
	}
	if err != nil {
		if errs, ok := translateErrors(rc, err); ok {
			return 0, errs, nil
		}
		return 0, nil, notFound(err)
	}
	flash(c, "success", rc.cat.T("Contact %s saved; it will be sent to RapidPro shortly.", in.Name))
	if !reachable {
		flash(c, "warn", rc.cat.T("RapidPro could not be reached to check the phone number or ID. The change is saved and waits to be sent."))
	}
	return id, nil, nil
}

// contactCreateForm shows the empty form, the selected panel and the org's
// language preselected.
func (h *Handlers) contactCreateForm(c *fiber.Ctx) error {
	rc := getRC(c)
	d := contactFormData{Create: true, Scheme: "tel", Region: rc.scope.Selected, Cohorts: map[int64]bool{}, Fields: map[string]string{},
		Language: models.DefaultContactLanguage(rc.org.Language)}
	return h.renderContactForm(c, d, nil)
}

// contactCreate creates a contact and queues its RapidPro create.
func (h *Handlers) contactCreate(c *fiber.Ctx) error {
	d := contactFormData{Create: true}
	in := readContactForm(c, &d)
	id, errs, err := h.saveContact(c, 0, in, "", "")
	if err != nil {
		return err
	}
	if errs != nil {
		return h.renderContactForm(c, d, errs)
	}
	return redirect(c, "/contact/read/"+strconv.FormatInt(id, 10)+"/")
}

// loadContact loads the :id contact in scope (404 otherwise).
func (h *Handlers) loadContact(c *fiber.Ctx) (*models.ContactDetail, error) {
	rc := getRC(c)
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	ct, err := h.DB.ContactDetail(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return nil, notFound(err)
	}
	return ct, nil
}

// contactUpdateForm shows a contact's form.
func (h *Handlers) contactUpdateForm(c *fiber.Ctx) error {
	ct, err := h.loadContact(c)
	if err != nil {
		return err
	}
	scheme, value := models.SplitURN(ct.URN)
	d := contactFormData{ID: ct.ID, Name: ct.Name, Scheme: scheme, Value: value, Region: ct.RegionID,
		Language: ct.Language, Cohorts: map[int64]bool{}, Fields: ct.Fields}
	for _, g := range ct.Cohorts {
		d.Cohorts[g] = true
	}
	return h.renderContactForm(c, d, nil)
}

// contactUpdate saves an edit and queues the RapidPro update.
func (h *Handlers) contactUpdate(c *fiber.Ctx) error {
	ct, err := h.loadContact(c)
	if err != nil {
		return err
	}
	d := contactFormData{ID: ct.ID}
	in := readContactForm(c, &d)
	_, errs, err := h.saveContact(c, ct.ID, in, ct.UUID, ct.URN)
	if err != nil {
		return err
	}
	if errs != nil {
		return h.renderContactForm(c, d, errs)
	}
	return redirect(c, "/contact/read/"+strconv.FormatInt(ct.ID, 10)+"/")
}

// contactReadData is the contact page.
type contactReadData struct {
	Contact  *models.ContactDetail
	Fields   []models.DataField
	Pushes   []models.ContactPush
	Language string
}

// Tab is the contact page's tab this page is (templates/contacts/tabs.html).
func (contactReadData) Tab() string { return "summary" }

// FieldText is a data field's value as the page shows it: a datetime as its
// date, "—" when empty.
func (d contactReadData) FieldText(f models.DataField) string {
	v := d.Contact.Fields[f.Key]
	switch {
	case v == "":
		return "—"
	case f.ValueType == "D" && len(v) > 10:
		return v[:10]
	}
	return v
}

// contactRead shows a contact: URN, panel, cohorts, language, last
// response, creator, visible data fields and its pushes to RapidPro.
func (h *Handlers) contactRead(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	ct, err := h.loadContact(c)
	if err != nil {
		return err
	}
	d := contactReadData{Contact: ct, Language: models.LanguageName(ct.Language)}
	if d.Fields, err = h.DB.VisibleFields(ctx, rc.org.ID); err != nil {
		return err
	}
	if d.Pushes, err = h.DB.ContactPushes(ctx, rc.org.ID, ct.ID); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "contacts/read", h.page(c, ct.Name, d))
}

// contactDeleteForm asks for confirmation.
func (h *Handlers) contactDeleteForm(c *fiber.Ctx) error {
	ct, err := h.loadContact(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "contacts/delete", h.page(c, getRC(c).cat.T("Delete contact"), ct))
}

// contactDelete soft-deletes a contact and queues its RapidPro DELETE; the
// confirmation page's button sends confirm=1 (anything else shows it again).
func (h *Handlers) contactDelete(c *fiber.Ctx) error {
	rc := getRC(c)
	ct, err := h.loadContact(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		p := h.page(c, rc.cat.T("Delete contact"), ct)
		p.Errors = map[string]string{"_form": rc.cat.T("Confirm the deletion with the button below.")}
		return h.render(c, fiber.StatusUnprocessableEntity, "contacts/delete", p)
	}
	if err := h.DB.DeleteContact(c.UserContext(), rc.org, rc.scope, ct.ID, rc.user.ID); err != nil {
		return notFound(err)
	}
	flash(c, "success", rc.cat.T("Contact %s deleted; it will be removed from RapidPro shortly.", ct.Name))
	return redirect(c, "/contact/")
}

// contactPushesData is the administrators' push page.
type contactPushesData struct {
	Pushes []models.ContactPush
	Sent   int
}

// contactPushes lists the org's contact pushes not sent yet or refused, for
// administrators, with how many were sent.
func (h *Handlers) contactPushes(c *fiber.Ctx) error {
	rc := getRC(c)
	ps, sent, err := h.DB.OrgContactPushes(c.UserContext(), rc.org.ID, 200)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "contacts/pushes", h.page(c, rc.cat.T("Contact pushes"), contactPushesData{Pushes: ps, Sent: sent}))
}

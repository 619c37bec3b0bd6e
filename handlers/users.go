package handlers

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/locale"
	"tracpro/models"
)

// Supervisors (SPEC §2.3 /user/…): administrators list, create and edit the
// supervisors of their org; members read profiles. Users of another org are
// "not found", never editable.

// userForm is the supervisor form (create and update).
type userForm struct {
	ID             int64
	FullName       string
	Email          string
	IsActive       bool
	ChangePassword bool
	Panels         map[int64]bool
}

// userFormData is what templates/users/form.html shows.
type userFormData struct {
	Create  bool
	Form    userForm
	Choices []models.ScopedPanel // the org's active panels, in tree order
}

// isInputError reports an error the user can fix in the form (shown as 422).
func isInputError(err error) bool {
	code := models.ErrorCode(err)
	return code == models.CodeInvalid || code == models.CodeConflict
}

// formPanels reads the panels multi-select.
func formPanels(c *fiber.Ctx) ([]int64, map[int64]bool, error) {
	var ids []int64
	set := map[int64]bool{}
	for _, v := range c.Request().PostArgs().PeekMulti("panels") {
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, nil, models.InvalidField("panels", "Choose panels of this organization.")
		}
		if !set[id] {
			set[id] = true
			ids = append(ids, id)
		}
	}
	return ids, set, nil
}

// readUserForm reads the common fields and the two password fields, which
// must match.
func readUserForm(c *fiber.Ctx) (userForm, []int64, string, error) {
	f := userForm{
		FullName:       strings.TrimSpace(c.FormValue("name")),
		Email:          strings.TrimSpace(c.FormValue("email")),
		IsActive:       c.FormValue("active") == "1",
		ChangePassword: c.FormValue("change_password") == "1",
	}
	ids, set, err := formPanels(c)
	f.Panels = set
	if err != nil {
		return f, nil, "", err
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		return f, ids, "", models.InvalidField("password2", "The two passwords do not match.")
	}
	return f, ids, pw, nil
}

// renderUserForm shows the form, with field errors when err is not nil.
func (h *Handlers) renderUserForm(c *fiber.Ctx, d userFormData, err error) error {
	rc := getRC(c)
	d.Choices = rc.scope.UserPanelList()
	title := rc.cat.T("Edit supervisor")
	if d.Create {
		title = rc.cat.T("New supervisor")
	}
	p := h.page(c, title, d)
	status := fiber.StatusOK
	if err != nil {
		p.Errors = fieldErrors(rc, err)
		status = fiber.StatusUnprocessableEntity
	}
	return h.render(c, status, "users/form", p)
}

// userList lists the org's supervisors.
func (h *Handlers) userList(c *fiber.Ctx) error {
	rc := getRC(c)
	ms, err := h.DB.ListMembers(c.UserContext(), rc.org.ID, models.RoleSupervisor)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "users/list", h.page(c, rc.cat.T("Supervisors"), ms))
}

// userCreateForm shows the empty supervisor form.
func (h *Handlers) userCreateForm(c *fiber.Ctx) error {
	return h.renderUserForm(c, userFormData{Create: true, Form: userForm{IsActive: true, ChangePassword: true}}, nil)
}

// userCreate creates a supervisor of the org with a password and panels.
func (h *Handlers) userCreate(c *fiber.Ctx) error {
	rc := getRC(c)
	f, ids, pw, err := readUserForm(c)
	f.IsActive = true
	d := userFormData{Create: true, Form: f}
	if err == nil && pw == "" {
		err = models.InvalidField("password", "Enter a password.")
	}
	if err == nil {
		_, err = h.DB.CreateMember(c.UserContext(), rc.org.ID,
			models.NewUser{Email: f.Email, FullName: f.FullName, Password: pw, ChangePassword: f.ChangePassword}, models.RoleSupervisor, ids)
	}
	if err != nil {
		if isInputError(err) {
			return h.renderUserForm(c, d, err)
		}
		return err
	}
	flash(c, "success", rc.cat.T("Supervisor %s created.", f.FullName))
	return redirect(c, "/user/")
}

// managedMember loads the supervisor of the :id route an administrator may
// edit: 404 for users outside the org, 403 for administrators and superusers.
func (h *Handlers) managedMember(c *fiber.Ctx) (*models.Member, error) {
	rc := getRC(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return nil, fiber.ErrNotFound
	}
	m, err := h.DB.MemberByID(c.UserContext(), rc.org.ID, int64(id))
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, fiber.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if m.Role == models.RoleAdmin || m.IsSuperuser {
		return nil, fiber.ErrForbidden
	}
	return m, nil
}

// userUpdateForm shows a supervisor's form.
func (h *Handlers) userUpdateForm(c *fiber.Ctx) error {
	m, err := h.managedMember(c)
	if err != nil {
		return err
	}
	f := userForm{ID: m.ID, FullName: m.FullName, Email: m.Email, IsActive: m.IsActive, Panels: map[int64]bool{}}
	for _, r := range m.Panels {
		f.Panels[r.ID] = true
	}
	return h.renderUserForm(c, userFormData{Form: f}, nil)
}

// userUpdate saves a supervisor's name, email, panels, active flag and,
// when given, a new password; deactivating ends their sessions.
func (h *Handlers) userUpdate(c *fiber.Ctx) error {
	rc := getRC(c)
	m, err := h.managedMember(c)
	if err != nil {
		return err
	}
	f, ids, pw, err := readUserForm(c)
	f.ID = m.ID
	if err == nil {
		err = h.DB.UpdateMember(c.UserContext(), rc.org.ID, models.MemberUpdate{
			ID: m.ID, FullName: f.FullName, Email: f.Email, IsActive: f.IsActive, Panels: ids, Password: pw})
	}
	if err != nil {
		if isInputError(err) {
			return h.renderUserForm(c, userFormData{Form: f}, err)
		}
		return err
	}
	flash(c, "success", rc.cat.T("Supervisor %s saved.", f.FullName))
	return redirect(c, "/user/")
}

// userReadData is what templates/users/read.html shows.
type userReadData struct {
	Member   *models.Member
	RoleName string
	CanEdit  bool
}

// userRead shows a member's profile: administrators see any member of the
// org, everyone else only themselves (others are "not found").
func (h *Handlers) userRead(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	if int64(id) != rc.user.ID && !rc.atLeast(models.RoleAdmin) {
		return fiber.ErrNotFound
	}
	m, err := h.DB.MemberByID(c.UserContext(), rc.org.ID, int64(id))
	if models.ErrorCode(err) == models.CodeNotFound {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	d := userReadData{Member: m, CanEdit: rc.atLeast(models.RoleAdmin) && m.Role != models.RoleAdmin && !m.IsSuperuser}
	switch m.Role {
	case models.RoleAdmin:
		d.RoleName = rc.cat.T("Administrator")
	case models.RoleSupervisor:
		d.RoleName = rc.cat.T("Supervisor")
	default:
		d.RoleName = rc.cat.T("Viewer")
	}
	return h.render(c, fiber.StatusOK, "users/read", h.page(c, m.FullName, d))
}

// profileForm is the "My profile" form.
type profileForm struct {
	FullName string
	Language string // "" = the org's default
}

// profileData is what templates/profile/self.html shows.
type profileData struct {
	Form        profileForm
	Forced      bool // a password change is required before going on
	HasPassword bool
}

// profileSelfForm shows the signed-in user's own profile form.
func (h *Handlers) profileSelfForm(c *fiber.Ctx) error {
	rc := getRC(c)
	d := profileData{Form: profileForm{FullName: rc.user.FullName, Language: rc.user.Language},
		Forced: rc.user.ChangePassword, HasPassword: rc.user.HasPassword()}
	return h.render(c, fiber.StatusOK, "profile/self", h.page(c, rc.cat.T("My profile"), d))
}

// profileSelf saves the name and language and, when a new password is given,
// changes the password: the current one must be right (wrong guesses count
// towards the account's sign-in throttle), every session of the user ends and
// this browser is signed in again on a fresh session.
func (h *Handlers) profileSelf(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	u := rc.user
	d := profileData{Form: profileForm{FullName: strings.TrimSpace(c.FormValue("name")), Language: c.FormValue("language")},
		Forced: u.ChangePassword, HasPassword: u.HasPassword()}
	current, pw, pw2 := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("new_password2")
	changing := current != "" || pw != "" || pw2 != ""
	throttleKey := "email:" + strings.ToLower(u.Email)

	status := fiber.StatusUnprocessableEntity
	err := checkProfile(rc, d.Form)
	switch {
	case err != nil:
	case d.Forced && pw == "":
		err = models.InvalidField("new_password", "Choose a new password.")
	case !changing:
	case pw == "":
		err = models.InvalidField("new_password", "Choose a new password.")
	case pw != pw2:
		err = models.InvalidField("new_password2", "The two passwords do not match.")
	default:
		err = models.ValidatePassword(pw, u.Email) // field "password", shown by the new password
		if err == nil && u.HasPassword() {
			status, err = h.checkCurrentPassword(c, throttleKey, u, current)
		}
	}
	if err != nil {
		if !isInputError(err) {
			return err
		}
		p := h.page(c, rc.cat.T("My profile"), d)
		p.Errors = fieldErrors(rc, err)
		return h.render(c, status, "profile/self", p)
	}
	if err := h.DB.UpdateProfile(ctx, u.ID, d.Form.FullName, d.Form.Language); err != nil {
		return err
	}
	if !changing {
		flash(c, "success", rc.cat.T("Your profile has been saved."))
		return redirect(c, "/profile/self/")
	}
	if err := h.DB.SetPassword(ctx, u.ID, pw); err != nil {
		return err
	}
	fresh, err := h.DB.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := h.startSession(c, fresh, rc.sess.Method); err != nil {
		return err
	}
	flash(c, "success", rc.cat.T("Your password has been changed."))
	if d.Forced {
		return redirect(c, "/")
	}
	return redirect(c, "/profile/self/")
}

// checkProfile validates the name and the language (one the org offers).
func checkProfile(rc *reqCtx, f profileForm) error {
	if f.FullName == "" {
		return models.InvalidField("name", "The full name is required.")
	}
	if f.Language == "" {
		return nil
	}
	langs := locale.Languages
	if rc.org != nil && len(rc.org.Languages) > 0 {
		langs = rc.org.Languages
	}
	if slices.Contains(langs, f.Language) {
		return nil
	}
	return models.InvalidField("language", "Choose one of the languages offered.")
}

// checkCurrentPassword verifies the current password under the account's
// sign-in throttle. It returns the status of the answer when it fails: 422
// for a wrong password, 429 while the account is throttled.
func (h *Handlers) checkCurrentPassword(c *fiber.Ctx, key string, u *models.User, current string) (int, error) {
	ctx := c.UserContext()
	wait, err := h.DB.LoginWait(ctx, key)
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		msg := getRC(c).cat.T("Too many attempts. Try again in %s.", roundWait(getRC(c).cat, wait))
		return fiber.StatusTooManyRequests, &models.Error{Code: models.CodeInvalid, Field: "current_password", Message: msg}
	}
	if !models.VerifyPassword(u.PasswordHash, current) {
		if _, err := h.DB.RecordLoginFailure(ctx, key); err != nil {
			return 0, err
		}
		return fiber.StatusUnprocessableEntity, models.InvalidField("current_password", "The current password is not correct.")
	}
	return fiber.StatusUnprocessableEntity, h.DB.ClearLoginFailures(ctx, key)
}

package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tracpro/models"
)

func idPath(prefix string, id int64) string { return prefix + strconv.FormatInt(id, 10) + "/" }

func TestSupervisorCreate(t *testing.T) {
	f := newMatrixFixture(t)
	admin := f.newClient(f.Org1, f.Admin)
	a1, b1 := strconv.FormatInt(f.Panels["District A1"], 10), strconv.FormatInt(f.Panels["District B1"], 10)

	// Invalid input: 422 with each message next to its field, nothing stored.
	for _, tc := range []struct {
		form  url.Values
		field string
		msg   string
	}{
		{url.Values{"name": {"Amina"}, "email": {"not-an-email"}, "password": {"Kandahar-2024!"}, "password2": {"Kandahar-2024!"}}, "email", "Enter a valid email address."},
		{url.Values{"name": {""}, "email": {"amina@org1.test"}, "password": {"Kandahar-2024!"}, "password2": {"Kandahar-2024!"}}, "name", "The full name is required."},
		{url.Values{"name": {"Amina"}, "email": {"amina@org1.test"}, "password": {"Kandahar-2024!"}, "password2": {"other"}}, "password2", "The two passwords do not match."},
		{url.Values{"name": {"Amina"}, "email": {"amina@org1.test"}, "password": {"short"}, "password2": {"short"}}, "password", "The password must have at least 8 characters."},
		{url.Values{"name": {"Amina"}, "email": {"amina@org1.test"}}, "password", "Enter a password."},
		{url.Values{"name": {"Amina"}, "email": {"sup-a@org1.test"}, "password": {"Kandahar-2024!"}, "password2": {"Kandahar-2024!"}}, "email", "A user with this email address already exists."},
		{url.Values{"name": {"Amina"}, "email": {"amina@org1.test"}, "password": {"Kandahar-2024!"}, "password2": {"Kandahar-2024!"},
			"panels": {strconv.FormatInt(f.Panels["Zone Z"], 10)}}, "panels", "Choose panels of this organization."},
	} {
		r := admin.post("/user/create/", tc.form)
		if r.Code != 422 {
			t.Errorf("%s: status %d, want 422", tc.field, r.Code)
			continue
		}
		// The message follows the field's input.
		in := strings.Index(r.Body, `name="`+tc.field+`"`)
		msg := strings.Index(r.Body, `<p class="field-error">`+tc.msg+`</p>`)
		if in < 0 || msg < in {
			t.Errorf("%s: message %q not shown after the field", tc.field, tc.msg)
		}
		if _, err := f.DB.UserByEmail(f.Ctx, "amina@org1.test"); models.ErrorCode(err) != models.CodeNotFound {
			t.Errorf("%s: a user was stored (%v)", tc.field, err)
		}
	}

	r := admin.post("/user/create/", url.Values{"name": {"Amina Noori"}, "email": {"amina@org1.test"}, "password": {"Kandahar-2024!"},
		"password2": {"Kandahar-2024!"}, "change_password": {"1"}, "panels": {a1, b1}})
	if r.Code != 303 || r.Header.Get("Location") != "/user/" {
		t.Fatalf("create = %d %s", r.Code, r.Header.Get("Location"))
	}
	u, err := f.DB.UserByEmail(f.Ctx, "amina@org1.test")
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.DB.MemberByID(f.Ctx, f.Org1.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != models.RoleSupervisor || !m.ChangePassword || !m.IsActive || len(m.Panels) != 2 ||
		m.Panels[0].Name != "District A1" || m.Panels[1].Name != "District B1" || !models.VerifyPassword(m.PasswordHash, "Kandahar-2024!") {
		t.Errorf("created member = %+v", m)
	}
	if role, _ := f.DB.RoleIn(f.Ctx, f.Org2.ID, u.ID); role != "" {
		t.Errorf("the new supervisor is in org 2 as %q", role)
	}
	list := admin.get("/user/")
	if !strings.Contains(list.Body, "Supervisor Amina Noori created.") || !strings.Contains(list.Body, "amina@org1.test") ||
		!strings.Contains(list.Body, "District A1, District B1") {
		t.Errorf("the list does not show the new supervisor with the flash and panels")
	}
	// htmx gets HX-Redirect rather than 303.
	r = admin.post("/user/create/", url.Values{"name": {"Bilal"}, "email": {"bilal@org1.test"}, "password": {"Kandahar-2024!"},
		"password2": {"Kandahar-2024!"}}, "HX-Request", "true")
	if r.Code != 204 || r.Header.Get("HX-Redirect") != "/user/" {
		t.Errorf("htmx create = %d %q", r.Code, r.Header.Get("HX-Redirect"))
	}
	// An htmx 422 is the form fragment alone.
	r = admin.post("/user/create/", url.Values{"name": {""}}, "HX-Request", "true")
	if r.Code != 422 || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="user-form"`) {
		t.Errorf("htmx invalid create = %d, full page or no form", r.Code)
	}
}

func TestSupervisorUpdate(t *testing.T) {
	f := newMatrixFixture(t)
	admin := f.newClient(f.Org1, f.Admin)
	path := idPath("/user/update/", f.SupB.ID)
	supB := f.newClient(f.Org1, f.SupB)

	r := admin.get(path)
	if r.Code != 200 || !strings.Contains(r.Body, `value="sup-b@org1.test"`) {
		t.Fatalf("edit form = %d", r.Code)
	}
	if got := optionsOf(r.Body, "panels"); len(got) != 7 {
		t.Errorf("panel choices = %q", got)
	}
	if !strings.Contains(r.Body, `value="`+strconv.FormatInt(f.Panels["Province B"], 10)+`" selected`) {
		t.Errorf("Province B is not selected in the form")
	}

	// Taking another user's email is a 422 on the email field.
	r = admin.post(path, url.Values{"name": {"B"}, "email": {"sup-a@org1.test"}, "active": {"1"}})
	if r.Code != 422 || !strings.Contains(r.Body, "A user with this email address already exists.") {
		t.Errorf("duplicate email = %d", r.Code)
	}

	// Rename, move to District A1, new password, deactivate: their sessions end.
	r = admin.post(path, url.Values{"name": {"Bashir Renamed"}, "email": {"bashir@org1.test"},
		"panels": {strconv.FormatInt(f.Panels["District A1"], 10)}, "password": {"Herat-River-77"}, "password2": {"Herat-River-77"}})
	if r.Code != 303 {
		t.Fatalf("update = %d: %s", r.Code, r.Body)
	}
	m, err := f.DB.MemberByID(f.Ctx, f.Org1.ID, f.SupB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.FullName != "Bashir Renamed" || m.Email != "bashir@org1.test" || m.IsActive || len(m.Panels) != 1 ||
		m.Panels[0].Name != "District A1" || !models.VerifyPassword(m.PasswordHash, "Herat-River-77") {
		t.Errorf("updated member = %+v", m)
	}
	if f.sessionExists(supB.SessionID) {
		t.Errorf("the deactivated supervisor's session still exists")
	}
	if r := supB.get("/"); r.Code != 303 {
		t.Errorf("deactivated supervisor's home = %d, want 303 to sign in", r.Code)
	}

	// Administrators and superusers are not edited here.
	for _, id := range []int64{f.Admin.ID} {
		if r := admin.get(idPath("/user/update/", id)); r.Code != 403 {
			t.Errorf("editing an administrator = %d, want 403", r.Code)
		}
	}
	if r := admin.get(idPath("/user/update/", f.Super.ID)); r.Code != 404 {
		t.Errorf("editing the superuser (no member) = %d, want 404", r.Code)
	}
}

// TestOtherOrgsUsersAreNotFound: an administrator manages only their own org.
func TestOtherOrgsUsersAreNotFound(t *testing.T) {
	f := newMatrixFixture(t)
	other := f.newClient(f.Org2, f.OtherAdmin)
	for _, p := range []string{idPath("/user/read/", f.SupA.ID), idPath("/user/update/", f.SupA.ID), "/user/read/999999/", "/user/update/x/"} {
		if r := other.get(p); r.Code != 404 {
			t.Errorf("org 2 administrator GET %s = %d, want 404", p, r.Code)
		}
	}
	r := other.post(idPath("/user/update/", f.SupA.ID), url.Values{"name": {"Hijacked"}, "email": {"evil@org2.test"}, "active": {"1"}})
	if r.Code != 404 {
		t.Errorf("org 2 administrator updating org 1's supervisor = %d, want 404", r.Code)
	}
	if u, _ := f.DB.UserByID(f.Ctx, f.SupA.ID); u.FullName == "Hijacked" || u.Email != "sup-a@org1.test" {
		t.Errorf("org 1's supervisor changed: %+v", u)
	}
}

func TestUserRead(t *testing.T) {
	f := newMatrixFixture(t)
	r := f.newClient(f.Org1, f.Admin).get(idPath("/user/read/", f.SupA.ID))
	if r.Code != 200 || !strings.Contains(r.Body, "Supervisor") || !strings.Contains(r.Body, "Province A") || !strings.Contains(r.Body, "sup-a@org1.test") {
		t.Errorf("admin reads supervisor A = %d", r.Code)
	}
	r = f.newClient(f.Org1, f.SupA).get(idPath("/user/read/", f.Admin.ID))
	if r.Code != 404 {
		t.Errorf("supervisor reads the administrator = %d, want 404", r.Code)
	}
	r = f.newClient(f.Org1, f.Admin).get(idPath("/user/read/", f.Admin.ID))
	if r.Code != 200 || !strings.Contains(r.Body, "Administrator") || !strings.Contains(r.Body, "All panels") {
		t.Errorf("administrator's own profile = %d", r.Code)
	}
}

func TestProfileSelf(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	if _, err := e.DB.ExecContext(e.Ctx, `UPDATE orgs SET languages = '["en","fr"]' WHERE id = ?`, org.ID); err != nil {
		t.Fatal(err)
	}
	u := e.createUser(org, "me@org1.test", models.RoleSupervisor, "Jalalabad-2024")
	c := e.newClient(org, u)

	r := c.get("/profile/self/")
	if r.Code != 200 || !strings.Contains(r.Body, `href="/passkeys/"`) || !strings.Contains(r.Body, ">Passkeys<") {
		t.Fatalf("profile = %d, without the passkeys link", r.Code)
	}
	if got := optionsOf(r.Body, "language"); len(got) != 3 {
		t.Errorf("language choices = %q, want the default + the org's two", got)
	}
	if r := c.post("/profile/self/", url.Values{"name": {"Me"}, "language": {"fa"}}); r.Code != 422 ||
		!strings.Contains(r.Body, "Choose one of the languages offered.") {
		t.Errorf("language outside the org's = %d", r.Code)
	}
	r = c.post("/profile/self/", url.Values{"name": {"Mina Karimi"}, "language": {"fr"}})
	if r.Code != 303 || r.Header.Get("Location") != "/profile/self/" {
		t.Fatalf("save = %d", r.Code)
	}
	got, _ := e.DB.UserByID(e.Ctx, u.ID)
	if got.FullName != "Mina Karimi" || got.Language != "fr" {
		t.Errorf("saved profile = %+v", got)
	}
	if r := c.get("/profile/self/"); !strings.Contains(r.Body, `<html lang="fr"`) {
		t.Errorf("the page is not in the chosen language")
	}

	if r := c.post("/profile/self/", url.Values{"name": {"Mina Karimi"}, "language": {""}}); r.Code != 303 {
		t.Fatalf("back to the org's language = %d", r.Code)
	}

	// Password change: wrong current password, mismatch, policy.
	for _, tc := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"current_password": {"wrong-password"}, "new_password": {"Mazar-Sharif-9"}, "new_password2": {"Mazar-Sharif-9"}}, "The current password is not correct."},
		{url.Values{"current_password": {"Jalalabad-2024"}, "new_password": {"Mazar-Sharif-9"}, "new_password2": {"Mazar-Sharif-8"}}, "The two passwords do not match."},
		{url.Values{"current_password": {"Jalalabad-2024"}, "new_password": {"password"}, "new_password2": {"password"}}, "This password is too common; choose another."},
	} {
		tc.form.Set("name", "Mina Karimi")
		if r := c.post("/profile/self/", tc.form); r.Code != 422 || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%q: status %d", tc.msg, r.Code)
		}
	}
	got, _ = e.DB.UserByID(e.Ctx, u.ID)
	if !models.VerifyPassword(got.PasswordHash, "Jalalabad-2024") {
		t.Errorf("a failed change changed the password")
	}
}

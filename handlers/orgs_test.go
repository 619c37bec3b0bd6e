package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/jobs"
	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// orgEnv is the shared test env (real app, CSRF on) plus one org bound to a
// RapidPro simulator and a Syncer for the background tasks.
type orgEnv struct {
	*testEnv
	syncer *jobs.Syncer
	sim    *fake.Server
	info   fake.GenInfo
	url    string
	org    *models.Org
}

func newOrgEnv(t *testing.T) *orgEnv {
	t.Helper()
	e := newTestEnv(t)
	store := fake.NewStore(nil)
	info := fake.Generate(store, fake.GenConfig{Seed: 3, Contacts: 60, Weeks: 3, Timezone: "Asia/Kabul"})
	sim := fake.NewServer(store, fake.Config{PageSize: 50})
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	syncer := jobs.NewSyncer(e.DB, jobs.Config{
		ClientOptions: rapidpro.Options{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }, Timeout: 5 * time.Second, MaxAttempts: 2},
		ScopeLimits:   map[string]int{},
		Now:           store.Clock.Now,
	})
	t.Cleanup(func() { jobs.Tasks(syncer).Shutdown(10 * time.Second) })
	e.H.Syncer = syncer
	org, err := e.DB.CreateOrg(e.Ctx, models.NewOrg{Name: "Kabul schools", Subdomain: "test", RapidProURL: hs.URL, Token: sim.Token(), Timezone: "Asia/Kabul"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(`UPDATE orgs SET admin_passkeys = 0`); err != nil {
		t.Fatal(err)
	}
	return &orgEnv{testEnv: e, syncer: syncer, sim: sim, info: info, url: hs.URL, org: org}
}

// user signs in a new user with role in the env's org ("" = no membership).
func (e *orgEnv) user(email, role string, superuser bool) *client {
	e.t.Helper()
	if superuser {
		// A passkey session: orgs created here have the passkey policy on,
		// which confines a superuser's password session to enrolment.
		return e.newClientBy(e.org, e.createSuperuser(email), models.AuthPasskey)
	}
	return e.newClient(e.org, e.createUser(e.org, email, role, ""))
}

func (e *orgEnv) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.DB.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// groupUUIDs maps pulled group names to UUIDs.
func (e *orgEnv) groupUUIDs(names []string) []string {
	e.t.Helper()
	gs, err := e.DB.ResolveGroups(e.Ctx, e.org.ID, names)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.UUID)
	}
	return out
}

func TestSetupWizardTracksPanelsCohortsPolls(t *testing.T) {
	e := newOrgEnv(t)
	admin := e.user("admin@example.org", models.RoleAdmin, false)

	// Step 1: the group list was never pulled: the page pulls it.
	r := admin.get("/region/select/")
	if r.Code != 200 || !strings.Contains(r.Body, "Step 1 of 4") || !strings.Contains(r.Body, e.info.Panels[0]) || !strings.Contains(r.Body, `href="/group/select/"`) {
		t.Fatalf("panels step: %d %s", r.Code, r.Body)
	}
	if !strings.Contains(r.Body, "Female Staff") || !strings.Contains(r.Body, " disabled>") {
		t.Fatal("the smart group must be shown disabled")
	}
	// A smart group is refused.
	smart := e.groupUUIDs([]string{"Female Staff"})
	if r := admin.post("/region/select/", url.Values{"choices": smart}); r.Code != 422 || !strings.Contains(r.Body, "Smart groups cannot be") {
		t.Fatalf("smart group: %d", r.Code)
	}
	if r := admin.post("/region/select/", url.Values{"choices": {"no-such-uuid"}}); r.Code != 422 {
		t.Fatalf("unknown group: %d", r.Code)
	}
	// A contacts watermark from earlier pulls is reset by newly tracked groups.
	if err := e.DB.SaveSyncState(e.Ctx, &models.SyncState{OrgID: e.org.ID, Resource: jobs.ResContacts, Watermark: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	r = admin.post("/region/select/", url.Values{"choices": e.groupUUIDs(e.info.Panels)})
	if r.Code != 303 || r.Header.Get("Location") != "/group/select/" {
		t.Fatalf("panels saved: %d %q", r.Code, r.Header.Get("Location"))
	}
	if n := e.count(`SELECT count(*) FROM regions WHERE org_id = ? AND is_active = 1`, e.org.ID); n != len(e.info.Panels) {
		t.Fatalf("panels tracked = %d, want %d", n, len(e.info.Panels))
	}
	if st, _ := e.DB.GetSyncState(e.Ctx, e.org.ID, jobs.ResContacts, ""); st.Watermark != 0 {
		t.Fatal("the contacts watermark was not reset")
	}

	// Step 2: cohorts, with the current choice checked.
	r = admin.get("/group/select/")
	if r.Code != 200 || !strings.Contains(r.Body, "Step 2 of 4") || !strings.Contains(r.Body, `href="/poll/select/"`) {
		t.Fatalf("cohorts step: %d", r.Code)
	}
	r = admin.post("/group/select/", url.Values{"choices": e.groupUUIDs(e.info.Cohorts)}, "HX-Request", "true")
	if r.Code != 204 || r.Header.Get("HX-Redirect") != "/poll/select/" {
		t.Fatalf("cohorts saved (htmx): %d %q", r.Code, r.Header.Get("HX-Redirect"))
	}
	if n := e.count(`SELECT count(*) FROM cohorts WHERE org_id = ? AND is_active = 1`, e.org.ID); n != len(e.info.Cohorts) {
		t.Fatalf("cohorts tracked = %d, want %d", n, len(e.info.Cohorts))
	}

	// Step 3: polls; the flow list is pulled by the page.
	r = admin.get("/poll/select/")
	if r.Code != 200 || !strings.Contains(r.Body, "Step 3 of 4") || !strings.Contains(r.Body, e.info.Polls[0]) || !strings.Contains(r.Body, `href="/manage/org/fetchruns/"`) {
		t.Fatalf("polls step: %d %s", r.Code, r.Body)
	}
	var flows []string
	for _, name := range e.info.Polls {
		var u string
		if err := e.DB.QueryRow(`SELECT flow_uuid FROM polls WHERE org_id = ? AND rapidpro_name = ?`, e.org.ID, name).Scan(&u); err != nil {
			t.Fatal(err)
		}
		flows = append(flows, u)
	}
	if n := e.count(`SELECT count(*) FROM questions`); n != 0 {
		t.Fatalf("questions before tracking = %d", n)
	}
	r = admin.post("/poll/select/", url.Values{"choices": flows[:2]})
	if r.Code != 303 || r.Header.Get("Location") != "/manage/org/fetchruns/" {
		t.Fatalf("polls saved: %d", r.Code)
	}
	if n := e.count(`SELECT count(*) FROM polls WHERE org_id = ? AND is_active = 1`, e.org.ID); n != 2 {
		t.Fatalf("polls tracked = %d", n)
	}
	if n := e.count(`SELECT count(DISTINCT q.poll_id) FROM questions q JOIN polls p ON p.id = q.poll_id WHERE p.is_active = 1`); n != 2 {
		t.Fatalf("polls with questions = %d, want 2", n)
	}
	// The step shows the tracked polls checked.
	r = admin.get("/poll/select/")
	if strings.Count(r.Body, " checked") != 2 {
		t.Fatalf("checked polls = %d", strings.Count(r.Body, " checked"))
	}
	// A supervisor cannot run the setup.
	sup := e.user("sup@example.org", models.RoleSupervisor, false)
	if r := sup.get("/region/select/"); r.Code != 403 {
		t.Fatalf("supervisor on setup: %d", r.Code)
	}
}

func TestOrgCreateChecksTokenAndIsSuperuserOnly(t *testing.T) {
	e := newOrgEnv(t)
	su := e.user("root@example.org", "", true)
	admin := e.user("admin@example.org", models.RoleAdmin, false)
	if r := admin.get("/manage/org/create/"); r.Code != 403 {
		t.Fatalf("administrator on org create: %d", r.Code)
	}
	if r := admin.post("/manage/org/create/", url.Values{"name": {"X"}}); r.Code != 403 {
		t.Fatalf("administrator posting org create: %d", r.Code)
	}
	if r := su.get("/manage/org/create/"); r.Code != 200 || !strings.Contains(r.Body, `name="token"`) {
		t.Fatalf("create form: %d", r.Code)
	}
	form := func(token string) url.Values {
		return url.Values{"name": {"Herat schools"}, "subdomain": {"herat"}, "rapidpro_url": {e.url}, "token": {token},
			"languages": {"en", "fa"}, "language": {"fa"}, "sameday": {"sum"}, "admin_passkeys": {"1"}}
	}
	r := su.post("/manage/org/create/", form("wrong-token"))
	if r.Code != 422 || !strings.Contains(r.Body, "RapidPro refused this API token.") || strings.Contains(r.Body, "wrong-token") {
		t.Fatalf("bad token: %d", r.Code)
	}
	if n := e.count(`SELECT count(*) FROM orgs`); n != 1 {
		t.Fatalf("orgs after a refused token = %d", n)
	}
	bad := form(e.sim.Token())
	bad.Set("language", "es")
	if r := su.post("/manage/org/create/", bad); r.Code != 422 || !strings.Contains(r.Body, "The default language must be one of the available languages.") {
		t.Fatalf("default language outside the available ones: %d", r.Code)
	}
	bad = form(e.sim.Token())
	bad.Set("timezone", "Mars/Olympus")
	if r := su.post("/manage/org/create/", bad); r.Code != 422 || !strings.Contains(r.Body, "Unknown time zone") {
		t.Fatalf("bad time zone: %d", r.Code)
	}
	r = su.post("/manage/org/create/", form(e.sim.Token()))
	if r.Code != 303 || r.Header.Get("Location") != "/manage/org/" {
		t.Fatalf("good token: %d %s", r.Code, r.Body)
	}
	o, err := e.DB.OrgByRef(e.Ctx, "herat")
	if err != nil {
		t.Fatal(err)
	}
	if o.Timezone != "Asia/Kabul" || o.Language != "fa" || len(o.Languages) != 2 || o.SameDay != "sum" || !o.AdminPasskeys || !o.IsActive || o.APIToken != e.sim.Token() {
		t.Fatalf("saved org: %+v", o)
	}
	// Update with an empty token keeps the stored one; the list shows the org.
	up := form("")
	up.Set("name", "Herat province")
	up.Set("timezone", "UTC")
	if r := su.post("/manage/org/update/"+strconv.FormatInt(o.ID, 10)+"/", up); r.Code != 303 {
		t.Fatalf("update: %d %s", r.Code, r.Body)
	}
	o, _ = e.DB.OrgByID(e.Ctx, o.ID)
	if o.Name != "Herat province" || o.APIToken != e.sim.Token() || o.IsActive || o.Timezone != "UTC" {
		t.Fatalf("updated org: %+v", o)
	}
	if r := su.get("/manage/org/"); r.Code != 200 || !strings.Contains(r.Body, "Herat province") || !strings.Contains(r.Body, "herat") {
		t.Fatalf("org list: %d", r.Code)
	}
	if r := admin.get("/manage/org/"); r.Code != 403 {
		t.Fatalf("administrator on the org list: %d", r.Code)
	}
	// The chooser links to each active org's host.
	if r := su.get("/manage/org/chooser/"); r.Code != 200 || !strings.Contains(r.Body, "://test."+testDomain+"/") {
		t.Fatalf("chooser: %d %s", r.Code, r.Body)
	}
}

func TestFetchRunsTaskProgress(t *testing.T) {
	e := newOrgEnv(t)
	admin := e.user("admin@example.org", models.RoleAdmin, false)
	if err := jobs.Track(e.Ctx, e.syncer, e.org, e.info.Panels, e.info.Cohorts, e.info.Polls, io.Discard); err != nil {
		t.Fatal(err)
	}
	r := admin.get("/manage/org/fetchruns/")
	if r.Code != 200 || !strings.Contains(r.Body, "Step 4 of 4") || !strings.Contains(r.Body, `value="1"`) {
		t.Fatalf("fetchruns form: %d", r.Code)
	}
	for _, bad := range []string{"0", "-1", "abc", ""} {
		r := admin.post("/manage/org/fetchruns/", url.Values{"days": {bad}})
		if r.Code != 422 || !strings.Contains(r.Body, "Enter a whole number of days, 1 or more.") {
			t.Fatalf("days=%q: %d", bad, r.Code)
		}
	}
	if n := e.count(`SELECT count(*) FROM tasks`); n != 0 {
		t.Fatalf("tasks after invalid input = %d", n)
	}
	r = admin.post("/manage/org/fetchruns/", url.Values{"days": {"30"}})
	if r.Code != 303 || r.Header.Get("Location") != "/manage/org/fetchruns/" {
		t.Fatalf("start: %d", r.Code)
	}
	jobs.Tasks(e.syncer).Wait()
	task, err := e.DB.LatestTask(e.Ctx, e.org.ID, models.TaskFetchRuns)
	if err != nil || task == nil {
		t.Fatal("no task", err)
	}
	if task.State != models.TaskDone || task.Progress != 100 || !strings.Contains(task.Message, "runs fetched") {
		t.Fatalf("task: %+v", task)
	}
	if n := e.count(`SELECT count(*) FROM responses`); n == 0 {
		t.Fatal("fetch past runs stored no response")
	}
	path := "/tasks/" + strconv.FormatInt(task.ID, 10) + "/"
	r = admin.get(path, "HX-Request", "true")
	if r.Code != 200 || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="task-`) || !strings.Contains(r.Body, `value="100"`) ||
		strings.Contains(r.Body, "hx-trigger") || !strings.Contains(r.Body, "Done") {
		t.Fatalf("finished fragment: %d %s", r.Code, r.Body)
	}
	if r := admin.get(path); r.Code != 200 || !strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `value="100"`) {
		t.Fatalf("task page: %d", r.Code)
	}
	// A running task's fragment polls every 2 s and shows its progress.
	running, err := e.DB.CreateTask(e.Ctx, e.org.ID, models.TaskFetchRuns, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DB.UpdateTask(e.Ctx, running.ID, models.TaskRunning, 40, "2 of 5 steps"); err != nil {
		t.Fatal(err)
	}
	r = admin.get("/tasks/"+strconv.FormatInt(running.ID, 10)+"/", "HX-Request", "true")
	if !strings.Contains(r.Body, `hx-trigger="every 2s"`) || !strings.Contains(r.Body, `value="40"`) || !strings.Contains(r.Body, "2 of 5 steps") {
		t.Fatalf("running fragment: %s", r.Body)
	}
	// A second fetch while one runs is refused with a flash.
	if r := admin.post("/manage/org/fetchruns/", url.Values{"days": {"2"}}); r.Code != 303 {
		t.Fatalf("second fetch: %d", r.Code)
	}
	if n := e.count(`SELECT count(*) FROM tasks`); n != 2 {
		t.Fatalf("tasks = %d, want 2", n)
	}
	if r := admin.get("/manage/org/fetchruns/"); !strings.Contains(r.Body, "already running") {
		t.Fatal("no flash about the running task")
	}
	// Tasks are visible only to administrators of their org.
	sup := e.user("sup@example.org", models.RoleSupervisor, false)
	if r := sup.get(path); r.Code != 403 {
		t.Fatalf("supervisor on a task: %d", r.Code)
	}
	other, err := e.DB.CreateOrg(e.Ctx, models.NewOrg{Name: "Other", Subdomain: "other", RapidProURL: e.url, Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ot, err := e.DB.CreateTask(e.Ctx, other.ID, models.TaskFetchRuns, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := admin.get("/tasks/" + strconv.FormatInt(ot.ID, 10) + "/"); r.Code != 404 {
		t.Fatalf("another org's task: %d", r.Code)
	}
}

func TestSyncNowAndStatus(t *testing.T) {
	e := newOrgEnv(t)
	admin := e.user("admin@example.org", models.RoleAdmin, false)
	if err := jobs.Track(e.Ctx, e.syncer, e.org, e.info.Panels, e.info.Cohorts, e.info.Polls, io.Discard); err != nil {
		t.Fatal(err)
	}
	r := admin.post("/manage/org/sync/", url.Values{})
	if r.Code != 303 || r.Header.Get("Location") != "/manage/org/home/" {
		t.Fatalf("sync now: %d", r.Code)
	}
	jobs.Tasks(e.syncer).Wait()
	task, err := e.DB.LatestTask(e.Ctx, e.org.ID, models.TaskSync)
	if err != nil || task == nil || task.State != models.TaskDone || task.Progress != 100 {
		t.Fatalf("sync task: %+v %v", task, err)
	}
	r = admin.get("/manage/org/home/")
	if r.Code != 200 || !strings.Contains(r.Body, "Sync started") || !strings.Contains(r.Body, "Kabul schools") || !strings.Contains(r.Body, "Asia/Kabul") {
		t.Fatalf("home: %d", r.Code)
	}
	table := r.Body[strings.Index(r.Body, `id="pulls"`):]
	table = table[:strings.Index(table, "</table>")]
	for _, res := range jobs.Resources {
		if !strings.Contains(table, "<td>"+res+"</td>") {
			t.Fatalf("status table lacks %s", res)
		}
	}
	if strings.Contains(table, "Never</td><td>0</td>") && !strings.Contains(table, "<td>fetchruns</td><td>Never") {
		t.Fatalf("a pull never succeeded:\n%s", table)
	}
	if !strings.Contains(r.Body, "<td>v2.contacts</td>") || strings.Contains(r.Body, "<td>v2.contacts</td><td>0</td>") {
		t.Fatal("the API requests used this hour are not shown")
	}
	// A second sync while one is pending is refused.
	if _, err := e.DB.CreateTask(e.Ctx, e.org.ID, models.TaskSync, nil, 0); err != nil {
		t.Fatal(err)
	}
	admin.post("/manage/org/sync/", url.Values{})
	if n := e.count(`SELECT count(*) FROM tasks WHERE kind = 'sync'`); n != 2 {
		t.Fatalf("sync tasks = %d", n)
	}
	if r := admin.get("/manage/org/home/"); !strings.Contains(r.Body, "already running") {
		t.Fatal("no flash about the running sync")
	}
	// Edit my organization: name, time zone, visible fields.
	if r := admin.post("/manage/org/edit/", url.Values{"name": {"Kabul"}, "timezone": {"Nowhere/Land"}}); r.Code != 422 || !strings.Contains(r.Body, "Unknown time zone") {
		t.Fatalf("edit with a bad zone: %d", r.Code)
	}
	if r := admin.post("/manage/org/edit/", url.Values{"name": {"Kabul"}, "timezone": {"UTC"}, "fields": {"gender"}}); r.Code != 303 {
		t.Fatalf("edit: %d", r.Code)
	}
	if n := e.count(`SELECT count(*) FROM data_fields WHERE org_id = ? AND show_on_tracpro = 1 AND key = 'gender'`, e.org.ID); n != 1 {
		t.Fatal("the visible field was not saved")
	}
}

package handlers

import (
	"net/url"
	"strconv"

	"tracpro/models"
)

// Authorization matrix entries of site management, My organization, the
// setup wizard, tasks and the panel tree. POST bodies are invalid on
// purpose: 422 means "allowed past the guard".
func init() {
	task := func(f *matrixFixture) string {
		t, err := f.DB.CreateTask(f.Ctx, f.Org1.ID, models.TaskFetchRuns, nil, 0)
		if err != nil {
			panic(err)
		}
		if err := f.DB.UpdateTask(f.Ctx, t.ID, models.TaskDone, 100, ""); err != nil {
			panic(err)
		}
		return "/tasks/" + strconv.FormatInt(t.ID, 10) + "/"
	}
	bad := url.Values{"name": {""}}
	addMatrix(map[string]Access{
		"GET /manage/org/":             {Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 200},
		"GET /manage/org/create/":      {Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 200},
		"POST /manage/org/create/":     {Form: bad, Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 422},
		"GET /manage/org/update/:id/":  {Path: "/manage/org/update/{org1}/", Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 200},
		"POST /manage/org/update/:id/": {Path: "/manage/org/update/{org1}/", Form: bad, Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 422},
		"GET /manage/org/chooser/":     {Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 200},
		"POST /manage/org/choose/":     {Form: url.Values{"org": {"x"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 403, OtherAdmin: 403, Super: 400},

		"GET /manage/org/home/":       {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /manage/org/sync/":      {Anon: 303, SupA: 403, SupB: 403, Admin: 303, OtherAdmin: 403, Super: 303},
		"GET /manage/org/edit/":       {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /manage/org/edit/":      {Form: bad, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /manage/org/fetchruns/":  {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /manage/org/fetchruns/": {Form: url.Values{"days": {"0"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /region/select/":         {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /region/select/":        {Form: url.Values{"choices": {"nope"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /group/select/":          {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /group/select/":         {Form: url.Values{"choices": {"nope"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /poll/select/":           {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /poll/select/":          {Form: url.Values{"choices": {"nope"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /tasks/:id/":             {Setup: task, Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},

		"GET /region/":             {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /region/:id/update/": {Path: "/region/{panelA}/update/", Form: url.Values{"parent": {"{panelA}"}}, Anon: 303, SupA: 403, SupB: 403, Admin: 400, OtherAdmin: 403, Super: 400},
	})
}

package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"tracpro/models"
)

func TestHealth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := models.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app, err := New(&Handlers{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	get := func(p string) (int, string) {
		resp, err := app.Test(httptest.NewRequest("GET", p, nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/livez"); code != 200 {
		t.Fatalf("livez = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || body != "schema not current" {
		t.Fatalf("readyz before migrate = %d %q", code, body)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/readyz"); code != 200 || body != "ok" {
		t.Fatalf("readyz after migrate = %d %q", code, body)
	}
	db.Close()
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("readyz with closed db = %d", code)
	}
}

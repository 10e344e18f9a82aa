package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func healthz(m *Main) int {
	rec := httptest.NewRecorder()
	m.Web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code
}

// GET /healthz is 200 while the database answers, 503 once the shutdown has
// begun (checked from a shutdown hook: the HTTP server has stopped, the
// database is still open).
func TestHealthzIs503WhileShuttingDown(t *testing.T) {
	m := MustRunMain(t)
	wantStatus(t, newBrowser(t, m).get("/healthz"), http.StatusOK)
	during := 0
	m.OnShutdown(func(ctx context.Context) error {
		during = healthz(m)
		return nil
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if during != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz during the shutdown: %d, want 503", during)
	}
}

func TestHealthzIs503WhenTheDatabaseDoesNotAnswer(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	wantStatus(t, b.get("/healthz"), http.StatusOK)
	if err := m.DB.Close(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.get("/healthz"), http.StatusServiceUnavailable)
}

package jobs

import (
	"context"
	"errors"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// openWindow starts a new window [watermark − overlap, now] unless one is in
// progress (a resumed window keeps its bounds and cursor, RAPIDPRO.md §2).
// first is the window start used when the pull never completed (zero = all history).
func (s *Syncer) openWindow(st *models.SyncState, first time.Time) {
	if st.InWindow() {
		return
	}
	now := s.Cfg.Now().UTC()
	// Rounded up to the next millisecond (states hold ms, RapidPro µs), so a
	// record modified just before the pull is inside the window; one modified
	// in the rest of that millisecond is read now and again next time (harmless).
	st.WindowBefore = now.UnixMilli() + 1
	switch {
	case st.Watermark != 0:
		st.WindowAfter = time.UnixMilli(st.Watermark).Add(-s.Cfg.Overlap).UnixMilli()
	case !first.IsZero():
		st.WindowAfter = first.UnixMilli()
	default:
		st.WindowAfter = 0
	}
	st.Cursor = ""
}

// windowBounds returns the window as query times (zero after = open start).
func windowBounds(st *models.SyncState) (after, before time.Time) {
	if st.WindowAfter != 0 {
		after = time.UnixMilli(st.WindowAfter).UTC()
	}
	return after, time.UnixMilli(st.WindowBefore).UTC()
}

// closeWindow moves the watermark to the end of the completed window.
func closeWindow(st *models.SyncState) {
	st.Watermark = st.WindowBefore
	st.WindowAfter, st.WindowBefore, st.Cursor = 0, 0, ""
}

// handleWindowError keeps the window for the next attempt; a cursor the server
// no longer accepts is dropped so the window restarts from its beginning.
func (s *Syncer) handleWindowError(ctx context.Context, st *models.SyncState, err error) error {
	if err != nil && errors.Is(err, rapidpro.ErrNotFound) && st.Cursor != "" {
		st.Cursor = ""
		if serr := s.DB.SaveSyncState(context.WithoutCancel(ctx), st); serr != nil {
			return serr
		}
	}
	return err
}

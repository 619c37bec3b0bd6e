package fake

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// svPeriodStart returns the start of the daily or monthly period containing t.
func svPeriodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	if period == "monthly" {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// svPeriodEnd returns the end of the period starting at start.
func svPeriodEnd(start time.Time, period string) time.Time {
	if period == "monthly" {
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// ArchiveRuns moves exited runs with modified_on before `before` into gzipped
// JSONL archives, one per day (period "daily", the default) or month
// ("monthly"), and marks them Archived so runs.json no longer serves them. A
// monthly archive covers every archived run of its month and hides the daily
// archives it rolls up. It returns the number of runs newly archived.
func (s *Server) ArchiveRuns(before time.Time, period string) int {
	period = svPeriod(period)
	n := 0
	s.store.Write(func() {
		st := s.store
		touched := map[time.Time]bool{}
		for _, r := range st.Runs {
			if !r.Archived && r.ExitType != "" && r.ModifiedOn.Before(before) {
				r.Archived = true
				n++
				touched[svPeriodStart(r.ModifiedOn, period)] = true
			}
		}
		if period == "monthly" {
			for _, a := range st.Archives {
				if a.Type == "run" && a.Period == "daily" && !a.Rolled {
					if d, err := time.Parse("2006-01-02", a.StartDate); err == nil && d.Before(before) {
						touched[svPeriodStart(d, period)] = true
					}
				}
			}
		}
		groups := map[time.Time][]*Run{}
		for _, r := range st.Runs {
			if r.Archived {
				if p := svPeriodStart(r.ModifiedOn, period); touched[p] {
					groups[p] = append(groups[p], r)
				}
			}
		}
		for p := range touched {
			runs := groups[p]
			slices.SortFunc(runs, func(a, b *Run) int {
				if c := a.ModifiedOn.Compare(b.ModifiedOn); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			var lines bytes.Buffer
			sc := &serCtx{st: st, prof: ProfileOSS2025, paths: true}
			for _, r := range runs {
				var j jbuf
				sc.archivedRun(&j, r)
				lines.Write(j.b)
				lines.WriteByte('\n')
			}
			s.putArchive("run", p, period, len(runs), lines.Bytes())
		}
	})
	return n
}

// ArchiveMessages moves messages created before `before` into gzipped JSONL
// archives (deleted messages are dropped, not archived), marking them Archived
// so messages.json no longer serves them. Periods work as in ArchiveRuns. It
// returns the number of messages newly archived.
func (s *Server) ArchiveMessages(before time.Time, period string) int {
	period = svPeriod(period)
	n := 0
	s.store.Write(func() {
		st := s.store
		touched := map[time.Time]bool{}
		for _, m := range st.Messages {
			if !m.Archived && m.CreatedOn.Before(before) {
				m.Archived = true
				n++
				touched[svPeriodStart(m.CreatedOn, period)] = true
			}
		}
		if period == "monthly" {
			for _, a := range st.Archives {
				if a.Type == "message" && a.Period == "daily" && !a.Rolled {
					if d, err := time.Parse("2006-01-02", a.StartDate); err == nil && d.Before(before) {
						touched[svPeriodStart(d, period)] = true
					}
				}
			}
		}
		groups := map[time.Time][]*Message{}
		for _, m := range st.Messages {
			if m.Archived && m.Visibility != "deleted" {
				if p := svPeriodStart(m.CreatedOn, period); touched[p] {
					groups[p] = append(groups[p], m)
				}
			}
		}
		for p := range touched {
			msgs := groups[p]
			slices.SortFunc(msgs, func(a, b *Message) int {
				if c := a.CreatedOn.Compare(b.CreatedOn); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			var lines bytes.Buffer
			sc := &serCtx{st: st, prof: ProfileOSS2025}
			for _, m := range msgs {
				var j jbuf
				sc.message(&j, m)
				lines.Write(j.b)
				lines.WriteByte('\n')
			}
			s.putArchive("message", p, period, len(msgs), lines.Bytes())
		}
	})
	return n
}

func svPeriod(p string) string {
	if p == "monthly" {
		return p
	}
	return "daily"
}

// putArchive creates or replaces the archive of (typ, start, period) and, for
// monthlies, marks the dailies it covers as rolled up. Write lock held.
func (s *Server) putArchive(typ string, start time.Time, period string, count int, lines []byte) {
	st := s.store
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(lines)
	_ = w.Close()
	sum := md5.Sum(gz.Bytes())
	date := start.Format("2006-01-02")
	var a *Archive
	for _, x := range st.Archives {
		if x.Type == typ && x.Period == period && x.StartDate == date {
			a = x
		}
	}
	if a == nil {
		a = &Archive{Type: typ, StartDate: date, Period: period, Token: strings.ReplaceAll(uuid.NewString(), "-", "")}
		st.Archives = append(st.Archives, a)
	}
	a.RecordCount, a.Data, a.Hash, a.Rolled = count, gz.Bytes(), hex.EncodeToString(sum[:]), false
	if period == "monthly" {
		end := svPeriodEnd(start, period).Format("2006-01-02")
		for _, x := range st.Archives {
			if x.Type == typ && x.Period == "daily" && x.StartDate >= date && x.StartDate < end {
				x.Rolled = true
			}
		}
	}
}

// archivedRun writes a run as rp-archiver does.
func (c *serCtx) archivedRun(j *jbuf, r *Run) {
	j.raw(`{"id":`)
	j.int(r.ID)
	j.raw(`,"uuid":`)
	j.str(r.UUID)
	j.raw(`,"flow":`)
	c.flowRef(j, r.FlowUUID)
	j.raw(`,"contact":`)
	c.contactRef(j, r.ContactUUID, false)
	j.raw(`,"responded":`)
	j.bool(r.Responded)
	j.raw(`,"path":[`)
	for i, st := range r.Path {
		if i > 0 {
			j.raw(",")
		}
		j.raw(`{"node":`)
		j.str(st.Node)
		j.raw(`,"time":`)
		j.time(st.Time)
		j.raw("}")
	}
	j.raw(`],"values":{`)
	c.values(j, r, true, true)
	j.raw(`},"created_on":`)
	j.time(r.CreatedOn)
	j.raw(`,"modified_on":`)
	j.time(r.ModifiedOn)
	j.raw(`,"exited_on":`)
	j.timePtr(r.ExitedOn)
	j.raw(`,"exit_type":`)
	j.strOrNull(r.ExitType)
	j.raw(`,"submitted_by":null}`)
}

// signArchive returns the pre-signed download path of a, valid for ArchiveTTL from now.
func (s *Server) signArchive(a *Archive, now time.Time) string {
	exp := strconv.FormatInt(now.Add(s.cfg.ArchiveTTL).Unix(), 10)
	return "/_archives/" + a.Token + ".jsonl.gz?Expires=" + exp + "&Signature=" + s.archiveSig(a.Token, exp)
}

func (s *Server) archiveSig(token, exp string) string {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(token + "|" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// svS3Error is an S3-style XML error.
func svS3Error(status int, code, msg string) *reply {
	return &reply{status: status, ctype: "application/xml",
		body: []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>")}
}

// serveDownload serves /_archives/<token>.jsonl.gz like a pre-signed S3 URL:
// no API token needed, 403 once expired or when the signature is wrong.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) int {
	f := s.flt.take(r.Method, "_archives")
	if f != nil {
		if rep := faultShortCircuit(f); rep != nil {
			if f.Kind == FaultHang {
				return s.hang(w, r)
			}
			return s.emit(w, r, rep, nil)
		}
	}
	token := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_archives/"), ".jsonl.gz")
	q, _ := url.ParseQuery(r.URL.RawQuery)
	exp := q.Get("Expires")
	if !hmac.Equal([]byte(s.archiveSig(token, exp)), []byte(q.Get("Signature"))) {
		return s.emit(w, r, svS3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."), f)
	}
	expUnix, _ := strconv.ParseInt(exp, 10, 64)
	if !s.store.Clock.Now().Before(time.Unix(expUnix, 0)) {
		return s.emit(w, r, svS3Error(403, "AccessDenied", "Request has expired"), f)
	}
	var data []byte
	s.store.Read(func() {
		for _, a := range s.store.Archives {
			if a.Token == token {
				data = a.Data
			}
		}
	})
	if data == nil {
		return s.emit(w, r, svS3Error(404, "NoSuchKey", "The specified key does not exist."), f)
	}
	rep := &reply{status: 200, body: data, ctype: "application/octet-stream",
		header: map[string]string{"Content-Disposition": "attachment; filename=" + token + ".jsonl.gz"}}
	return s.emit(w, r, rep, f)
}

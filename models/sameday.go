package models

import (
	"context"
	"database/sql"
	"strconv"
)

type pollrunInfo struct {
	poll int64
	day  string
}

type sameDayKey struct {
	contact, poll int64
	day           string
}

// settle runs after a page's rows are written: it keeps only the newest
// response (by created_on) per contact per poll run active, and recomputes the
// same-day last/sum values (SPEC §3.1) where a contact now has several
// responses to one poll on one org-local day. Everything goes through the
// (poll run, contact) index, so a page of first responses costs a query per
// poll run it touched.
func (ri *RunIngester) settle(ctx context.Context, tx *sql.Tx, touched, moved map[pair]bool, d *counterDelta) error {
	byPollrun := map[int64][]any{}
	for p := range touched {
		byPollrun[p.pollrun] = append(byPollrun[p.pollrun], p.contact)
	}
	for p := range moved {
		if !touched[p] {
			byPollrun[p.pollrun] = append(byPollrun[p.pollrun], p.contact)
		}
	}
	info := map[int64]pollrunInfo{}
	for id := range byPollrun {
		var pi pollrunInfo
		if err := tx.QueryRowContext(ctx, `SELECT poll_id, local_date FROM pollruns WHERE id = ?`, id).Scan(&pi.poll, &pi.day); err != nil {
			return err
		}
		info[id] = pi
	}
	recheck := map[pair]bool{}
	sameDay := map[sameDayKey]bool{}
	for p := range moved {
		recheck[p] = true
		sameDay[sameDayKey{p.contact, info[p.pollrun].poll, info[p.pollrun].day}] = true
	}
	contactsIn := func(pollrun int64, contacts []any, having string, fn func(contact int64)) error {
		args := append([]any{pollrun}, contacts...)
		rows, err := tx.QueryContext(ctx, `SELECT contact_id FROM responses WHERE pollrun_id = ? AND contact_id IN (`+inPlaceholders(len(contacts))+`)
			GROUP BY contact_id `+having, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c int64
			if err := rows.Scan(&c); err != nil {
				return err
			}
			fn(c)
		}
		return rows.Err()
	}
	for pr, contacts := range byPollrun {
		pi := info[pr]
		// Several responses of one contact in one poll run.
		if err := contactsIn(pr, contacts, "HAVING count(*) > 1", func(c int64) {
			recheck[pair{pr, c}] = true
			sameDay[sameDayKey{c, pi.poll, pi.day}] = true
		}); err != nil {
			return err
		}
		// Responses in another poll run of the same poll and day (e.g. a
		// regional start and the universal poll run).
		rows, err := tx.QueryContext(ctx, `SELECT id FROM pollruns WHERE poll_id = ? AND local_date = ? AND id <> ? AND pollrun_type <> 's'`, pi.poll, pi.day, pr)
		if err != nil {
			return err
		}
		var siblings []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			siblings = append(siblings, id)
		}
		rows.Close()
		for _, sib := range siblings {
			if err := contactsIn(sib, contacts, "", func(c int64) { sameDay[sameDayKey{c, pi.poll, pi.day}] = true }); err != nil {
				return err
			}
		}
	}
	// Only rows whose flag flips are written; they move in or out of the counters.
	var flipped []int64
	for p := range recheck {
		ids, err := queryIDs(ctx, tx, `UPDATE responses SET is_active = 1 - is_active WHERE pollrun_id = ?1 AND contact_id = ?2
			AND is_active <> (id = (SELECT r2.id FROM responses r2 WHERE r2.pollrun_id = ?1 AND r2.contact_id = ?2
			ORDER BY r2.created_on DESC, r2.id DESC LIMIT 1)) RETURNING id`, p.pollrun, p.contact)
		if err != nil {
			return err
		}
		flipped = append(flipped, ids...)
	}
	rs, err := loadResponsesByID(ctx, tx, flipped)
	if err != nil {
		return err
	}
	for _, s := range rs {
		if s.contactActive && s.active {
			d.add(s, s.region, 1)
		} else if s.contactActive {
			d.add(s, s.region, -1)
		}
	}
	for k := range sameDay {
		if err := recomputeSameDay(ctx, tx, k, d); err != nil {
			return err
		}
	}
	return nil
}

// recomputeSameDay sets last_value and sum_value of the answers a contact gave
// in the poll runs of one poll on one org-local day, grouped by question and
// the answer's own org-local day.
// Answers of counted responses (active, of an active contact) move their
// numeric contribution in d.
func recomputeSameDay(ctx context.Context, tx *sql.Tx, k sameDayKey, d *counterDelta) error {
	var region int64
	var contactActive bool
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(region_id, 0), is_active FROM contacts WHERE id = ?`, k.contact).Scan(&region, &contactActive); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.response_id, a.question_id, a.local_date, a.value, coalesce(a.last_value, ''), coalesce(a.sum_value, ''),
		r.pollrun_id, r.is_active, coalesce(a.category, '')
		FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id AND r.contact_id = ? JOIN answers a ON a.response_id = r.id
		WHERE pr.poll_id = ? AND pr.local_date = ? AND pr.pollrun_type <> 's' ORDER BY a.submitted_on, a.response_id`, k.contact, k.poll, k.day)
	if err != nil {
		return err
	}
	type group struct {
		question     int64
		ids          []int64 // response ids
		vals         []string
		oldLast, old []string
		counted      []counterKey // pollrun 0: not counted
	}
	groups := map[string]*group{}
	var order []string
	for rows.Next() {
		var id, q, pr int64
		var day, v, last, sum, cat string
		var active bool
		if err := rows.Scan(&id, &q, &day, &v, &last, &sum, &pr, &active, &cat); err != nil {
			rows.Close()
			return err
		}
		key := strconv.FormatInt(q, 10) + "|" + day
		g := groups[key]
		if g == nil {
			g = &group{question: q}
			groups[key] = g
			order = append(order, key)
		}
		g.ids, g.vals, g.oldLast, g.old = append(g.ids, id), append(g.vals, v), append(g.oldLast, last), append(g.old, sum)
		ck := counterKey{}
		if active && contactActive {
			ck = counterKey{pr, q, region, cat}
		}
		g.counted = append(g.counted, ck)
	}
	rows.Close()
	for _, key := range order {
		g := groups[key]
		last := g.vals[len(g.vals)-1]
		var total float64
		numeric := false
		for _, v := range g.vals {
			if f, ok := ParseNumber(v); ok {
				total += f
				numeric = true
			}
		}
		for i, id := range g.ids {
			sum := g.vals[i]
			if numeric {
				sum = strconv.FormatFloat(total, 'f', -1, 64)
			}
			if g.oldLast[i] == last && g.old[i] == sum {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE answers SET last_value = ?, sum_value = ? WHERE response_id = ? AND question_id = ?`, last, sum, id, g.question); err != nil {
				return err
			}
			if ck := g.counted[i]; ck.pollrun != 0 {
				d.values(ck, g.oldLast[i], g.old[i], last, sum)
			}
		}
	}
	return nil
}

package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// A server's identity (issue #13): restored from its replica, a database can
// lack the claims and sent marks of pushes that did reach RapidPro — they
// were written inside Litestream's loss window — and would send them again.
// The database records a generation and how many outbox claims that
// generation made (node_state); the server keeps the same two values in a
// file beside the database (NodeFile: same volume, never replicated),
// written durably before each claim commits. StartNode compares them when a
// server starts:
//   - no file and an empty outbox: a first start;
//   - same generation, same claim count: the database this server left
//     (a restart, also after a crash: every claim is in the file);
//   - no file, or another generation: restored from the replica or copied
//     (or from a release without node files);
//   - same generation but fewer claims: an older copy of this server's own
//     database (a point-in-time restore swapped in, commits lost in a
//     power cut).
//
// In the last two cases every pending push is marked uncertain and read
// back from RapidPro before anything is sent again (jobs/outbox_reconcile.go),
// and the database gets a new generation. Needless reconciling (a crash
// between the file write and the commit of a claim) costs reads, never a
// duplicate.

// NodeFile is the path of the node file of a database.
func NodeFile(dbPath string) string { return dbPath + ".node" }

// nodeRecord is the content of a node file and of node_state.
type nodeRecord struct {
	Generation string `json:"generation"`
	Claims     int64  `json:"claims"`
}

// node is the identity of the server that holds the database.
type node struct {
	mu   sync.Mutex
	path string
	gen  string
}

// The states StartNode finds.
const (
	NodeNew      = "new"      // no node file, nothing in the outbox: a first start
	NodeSame     = "same"     // the database this server left
	NodeRestored = "restored" // restored, copied, or from before node files
	NodeBehind   = "behind"   // this server's database, older than what it did
)

// NodeCheck is what StartNode found and did.
type NodeCheck struct {
	State      string
	Reason     string // why, for the log ("" for NodeSame and NodeNew)
	Uncertain  int    // pending pushes marked to be read back from RapidPro first
	Generation string // the database's generation from now on
}

// Reconciles reports whether the check marked pending pushes uncertain.
func (c *NodeCheck) Reconciles() bool { return c.State == NodeRestored || c.State == NodeBehind }

// StartNode checks that the database is the one this server left (see the
// comment above), marks every pending push uncertain when it may not be,
// and makes the server the database's node: from now on each outbox claim
// is also counted in the node file. Only a process that may deliver the
// outbox or queue pushes (serve, demo) calls it, before either starts.
func (db *DB) StartNode(ctx context.Context) (*NodeCheck, error) {
	path := NodeFile(db.Path)
	var file nodeRecord
	haveFile, badFile := false, ""
	switch b, err := os.ReadFile(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read the node file %s: %w", path, err)
	case json.Unmarshal(b, &file) != nil || file.Generation == "":
		badFile = "the node file " + path + " is unreadable"
	default:
		haveFile = true
	}
	var inDB nodeRecord
	haveDB := true
	err := db.QueryRowContext(ctx, `SELECT generation, claims FROM node_state WHERE id = 1`).Scan(&inDB.Generation, &inDB.Claims)
	if err == sql.ErrNoRows {
		haveDB = false
	} else if err != nil {
		return nil, err
	}
	check := &NodeCheck{State: NodeSame}
	switch {
	case badFile != "":
		check.State, check.Reason = NodeRestored, badFile
	case !haveFile && haveDB:
		check.State, check.Reason = NodeRestored, "no node file beside the database: it was restored from its replica or copied here"
	case !haveFile:
		var pushes int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&pushes); err != nil {
			return nil, err
		}
		check.State = NodeNew
		if pushes > 0 {
			check.State, check.Reason = NodeRestored, "no node file and a database from before node files (an upgrade, or a restore or copy of such a database)"
		}
	case file.Generation != inDB.Generation:
		check.State = NodeRestored
		check.Reason = fmt.Sprintf("the database's generation %q is not this server's %q: it was restored from its replica or copied here", inDB.Generation, file.Generation)
	case inDB.Claims < file.Claims:
		check.State = NodeBehind
		check.Reason = fmt.Sprintf("the database records %d outbox claims of this server, which made %d: it is an older copy (a point-in-time restore swapped in, or commits lost in a power cut)", inDB.Claims, file.Claims)
	}
	next := inDB
	if check.State != NodeSame {
		next = nodeRecord{Generation: newGeneration()}
	}
	now := NowMs()
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var restoredAt any
		if check.Reconciles() {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET verify_since = ? WHERE state = 'pending'`, now)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			check.Uncertain = int(n)
			restoredAt = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO node_state (id, generation, claims, started_at, restored_at) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, claims = excluded.claims, started_at = excluded.started_at,
				restored_at = coalesce(excluded.restored_at, node_state.restored_at)`, next.Generation, next.Claims, now, restoredAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Written after the commit: a stop in between leaves the old file, and
	// the next start reconciles again (needless, harmless).
	if err := writeNodeFile(path, next); err != nil {
		return nil, err
	}
	check.Generation = next.Generation
	db.node = &node{path: path, gen: next.Generation}
	return check, nil
}

// newGeneration returns a random generation.
func newGeneration() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// writeNodeFile replaces the node file durably: a temporary file synced,
// renamed over it, and the directory synced, so that neither a crash nor a
// power cut leaves a torn or lost file.
func writeNodeFile(path string, rec nodeRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write the node file: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the node file %s: %w", path, err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write the node file %s: %w", path, err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("write the node file %s: %w", path, err)
	}
	return nil
}

// countClaim counts one outbox claim in tx and in the node file, before tx
// commits: the file is never behind the claims the database holds, so a
// database found behind the file lost claims whose requests may have left.
// Without a node (commands that do not deliver), it does nothing.
func (db *DB) countClaim(ctx context.Context, tx *sql.Tx) error {
	if db.node == nil {
		return nil
	}
	var claims int64
	err := tx.QueryRowContext(ctx, `UPDATE node_state SET claims = claims + 1 WHERE id = 1 AND generation = ? RETURNING claims`, db.node.gen).Scan(&claims)
	if err == sql.ErrNoRows {
		return errors.New("the database's generation changed under this server: is another server using the same file?")
	}
	if err != nil {
		return err
	}
	return writeNodeFile(db.node.path, nodeRecord{Generation: db.node.gen, Claims: claims})
}

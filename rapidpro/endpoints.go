package rapidpro

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// query builds a query string, skipping zero values.
type query url.Values

func (q query) str(k, v string) {
	if v != "" {
		url.Values(q).Set(k, v)
	}
}

func (q query) time(k string, t time.Time) {
	if !t.IsZero() {
		url.Values(q).Set(k, t.UTC().Format(queryTimeLayout))
	}
}

func (q query) date(k string, t time.Time) {
	if !t.IsZero() {
		url.Values(q).Set(k, t.UTC().Format(time.DateOnly))
	}
}

func (q query) optBool(k string, b *bool) {
	if b != nil {
		url.Values(q).Set(k, fmtBool(*b))
	}
}

func (q query) flag(k string, b bool) {
	if b {
		url.Values(q).Set(k, "true")
	}
}

// idOrUUID sends a digits-only identifier as the legacy "id" parameter.
func (q query) idOrUUID(v string) {
	if v != "" && strings.Trim(v, "0123456789") == "" {
		q.str("id", v)
		return
	}
	q.str("uuid", v)
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Org returns the workspace of the token (org.json).
func (c *Client) Org(ctx context.Context) (Org, error) {
	var o Org
	err := c.getOne(ctx, "org", nil, &o)
	return o, err
}

// Flows lists flows.
func (c *Client) Flows(ctx context.Context, q FlowQuery, fn func(Page[Flow]) error) error {
	p := query{}
	p.str("uuid", q.UUID)
	p.str("type", q.Type)
	p.optBool("archived", q.Archived)
	p.time("after", q.After)
	p.time("before", q.Before)
	return list[Flow, wireFlow](ctx, c, "flows", url.Values(p), q.Resume, fn)
}

// definitionsBatch is how many flows one definitions request asks for.
const definitionsBatch = 50

// Definitions fetches the definitions of the given flows with
// dependencies=none and returns the requested flows that the server knows,
// in requested order; unrequested (dependent) flows are dropped.
func (c *Client) Definitions(ctx context.Context, flowUUIDs []string) ([]FlowDefinition, error) {
	var want []string
	seen := make(map[string]bool)
	for _, u := range flowUUIDs {
		if u != "" && !seen[u] {
			seen[u] = true
			want = append(want, u)
		}
	}
	found := make(map[string]FlowDefinition)
	for start := 0; start < len(want); start += definitionsBatch {
		batch := want[start:min(start+definitionsBatch, len(want))]
		p := url.Values{}
		for _, u := range batch {
			p.Add("flow", u)
		}
		p.Set("dependencies", "none")
		var defs []FlowDefinition
		err := c.do(ctx, request{method: http.MethodGet, endpoint: "definitions", url: c.endpointURL("definitions", p),
			decode: func(rd io.Reader) error {
				data, err := io.ReadAll(rd)
				if err != nil {
					return err
				}
				// A syntax error here (truncated body) is retried.
				defs, err = ParseDefinitions(data)
				return err
			}})
		if err != nil {
			return nil, err
		}
		for _, d := range defs {
			if seen[d.UUID] {
				found[d.UUID] = d
			}
		}
	}
	var out []FlowDefinition
	for _, u := range want {
		if d, ok := found[u]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// Groups lists contact groups.
func (c *Client) Groups(ctx context.Context, q GroupQuery, fn func(Page[Group]) error) error {
	p := query{}
	p.str("uuid", q.UUID)
	p.str("name", q.Name)
	return list[Group, wireGroup](ctx, c, "groups", url.Values(p), q.Resume, fn)
}

// Fields lists contact fields.
func (c *Client) Fields(ctx context.Context, q FieldQuery, fn func(Page[Field]) error) error {
	p := query{}
	p.str("key", q.Key)
	return list[Field, wireField](ctx, c, "fields", url.Values(p), q.Resume, fn)
}

// Contacts lists contacts. Deleted lists only deleted contacts.
func (c *Client) Contacts(ctx context.Context, q ContactQuery, fn func(Page[Contact]) error) error {
	p := query{}
	p.str("uuid", q.UUID)
	p.str("urn", q.URN)
	p.str("group", q.Group)
	p.flag("deleted", q.Deleted)
	p.time("after", q.After)
	p.time("before", q.Before)
	p.flag("reverse", q.Reverse)
	return list[Contact, wireContact](ctx, c, "contacts", url.Values(p), q.Resume, fn)
}

// errStop ends a listing early without error.
var errStop = errors.New("stop")

// ContactByURN returns the contact owning urn, or nil, nil when none does.
func (c *Client) ContactByURN(ctx context.Context, urn string) (*Contact, error) {
	if urn == "" {
		return nil, errors.New("rapidpro: ContactByURN: empty URN")
	}
	var found *Contact
	err := c.Contacts(ctx, ContactQuery{URN: urn}, func(p Page[Contact]) error {
		if len(p.Results) > 0 {
			found = &p.Results[0]
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return found, nil
}

// CreateContact creates a contact (201).
func (c *Client) CreateContact(ctx context.Context, w ContactWrite) (Contact, error) {
	var out Contact
	err := c.write(ctx, http.MethodPost, "contacts", nil, w, &out)
	return out, err
}

// UpdateContact updates the contact with the given UUID (200); only the
// parts of w that are set are changed.
func (c *Client) UpdateContact(ctx context.Context, uuid string, w ContactWrite) (Contact, error) {
	if uuid == "" {
		// Without ?uuid= the POST would create a new contact.
		return Contact{}, errors.New("rapidpro: UpdateContact: empty UUID")
	}
	var out Contact
	err := c.write(ctx, http.MethodPost, "contacts", url.Values{"uuid": {uuid}}, w, &out)
	return out, err
}

// DeleteContact deletes the contact (204). An unknown contact gives an
// *APIError matching ErrNotFound. DELETE is idempotent and retried like a
// read.
func (c *Client) DeleteContact(ctx context.Context, uuid string) error {
	if uuid == "" {
		return errors.New("rapidpro: DeleteContact: empty UUID")
	}
	return c.write(ctx, http.MethodDelete, "contacts", url.Values{"uuid": {uuid}}, nil, nil)
}

// Runs lists flow runs.
func (c *Client) Runs(ctx context.Context, q RunQuery, fn func(Page[Run]) error) error {
	p := query{}
	p.str("uuid", q.UUID)
	p.str("flow", q.Flow)
	p.str("contact", q.Contact)
	p.optBool("responded", q.Responded)
	p.time("after", q.After)
	p.time("before", q.Before)
	p.flag("reverse", q.Reverse)
	p.optBool("paths", q.Paths)
	return listWith(ctx, c, "runs", url.Values(p), q.Resume, decodeRunsPage, fn)
}

// Messages lists messages.
func (c *Client) Messages(ctx context.Context, q MessageQuery, fn func(Page[Message]) error) error {
	p := query{}
	p.idOrUUID(q.UUID)
	p.str("folder", q.Folder)
	p.str("contact", q.Contact)
	p.str("label", q.Label)
	p.str("broadcast", q.Broadcast)
	p.time("after", q.After)
	p.time("before", q.Before)
	return list[Message, wireMessage](ctx, c, "messages", url.Values(p), q.Resume, fn)
}

// Broadcasts lists broadcasts.
func (c *Client) Broadcasts(ctx context.Context, q BroadcastQuery, fn func(Page[Broadcast]) error) error {
	p := query{}
	p.idOrUUID(q.UUID)
	p.time("after", q.After)
	p.time("before", q.Before)
	return list[Broadcast, wireBroadcast](ctx, c, "broadcasts", url.Values(p), q.Resume, fn)
}

// SendBroadcast sends a broadcast. It is not retried after a 5xx or a
// timeout: such failures return an *OutcomeUnknownError.
func (c *Client) SendBroadcast(ctx context.Context, w BroadcastWrite) (Broadcast, error) {
	var out Broadcast
	err := c.write(ctx, http.MethodPost, "broadcasts", nil, w, &out)
	return out, err
}

// FlowStarts lists flow starts.
func (c *Client) FlowStarts(ctx context.Context, q FlowStartQuery, fn func(Page[FlowStart]) error) error {
	p := query{}
	p.str("uuid", q.UUID)
	p.time("after", q.After)
	p.time("before", q.Before)
	return list[FlowStart, wireFlowStart](ctx, c, "flow_starts", url.Values(p), q.Resume, fn)
}

// StartFlow starts a flow. The answer is a FlowStart; runs are created
// asynchronously and carry its UUID as Run.StartUUID. Failures after the
// request may have been sent return an *OutcomeUnknownError.
func (c *Client) StartFlow(ctx context.Context, w FlowStartWrite) (FlowStart, error) {
	if w.Flow == "" {
		return FlowStart{}, errors.New("rapidpro: StartFlow: empty flow UUID")
	}
	var out FlowStart
	err := c.write(ctx, http.MethodPost, "flow_starts", nil, w, &out)
	return out, err
}

// Boundaries lists administrative boundaries, with GeoJSON geometry when
// q.Geometry is set.
func (c *Client) Boundaries(ctx context.Context, q BoundaryQuery, fn func(Page[Boundary]) error) error {
	p := query{}
	p.flag("geometry", q.Geometry)
	return list[Boundary, wireBoundary](ctx, c, "boundaries", url.Values(p), q.Resume, fn)
}

// Archives lists archives. The type is sent both as "type" (hosted) and
// "archive_type" (oss); servers ignore the parameter they do not know.
func (c *Client) Archives(ctx context.Context, q ArchiveQuery, fn func(Page[Archive]) error) error {
	p := query{}
	p.str("type", q.Type)
	p.str("archive_type", q.Type)
	p.str("period", q.Period)
	p.date("after", q.After)
	p.date("before", q.Before)
	return list[Archive, wireArchive](ctx, c, "archives", url.Values(p), q.Resume, fn)
}

package rapidpro

// The reference run decoder: the tolerant wire struct decoded by
// encoding/json. Production decodes runs with the hand-written scanner
// (fastrun.go); the tests check that both agree.

type wireRun struct {
	ID      jInt64     `json:"id"`
	UUID    string     `json:"uuid"`
	Flow    Ref        `json:"flow"`
	Contact ContactRef `json:"contact"`
	Start   struct {
		UUID jString `json:"uuid"`
	} `json:"start"`
	StartUUID  jString              `json:"start_uuid"`
	Responded  jBool                `json:"responded"`
	Path       []wireStep           `json:"path"`
	Values     map[string]wireValue `json:"values"`
	CreatedOn  jTime                `json:"created_on"`
	ModifiedOn jTime                `json:"modified_on"`
	ExitedOn   jTime                `json:"exited_on"`
	ExitType   string               `json:"exit_type"`
}

type wireStep struct {
	Node string `json:"node"`
	Time jTime  `json:"time"`
}

type wireValue struct {
	Name     string      `json:"name"`
	Value    jString     `json:"value"`
	Category jCategory   `json:"category"`
	Node     string      `json:"node"`
	Time     jTime       `json:"time"`
	Input    jNullString `json:"input"`
}

func (v *wireValue) api() RunValue {
	return RunValue{
		Name:     string(v.Name),
		Value:    string(v.Value),
		Category: v.Category.ptr(),
		Node:     string(v.Node),
		Time:     v.Time.time(),
		Input:    v.Input.ptr(),
	}
}

func (w *wireRun) api() Run {
	r := Run{
		ID:         int64(w.ID),
		UUID:       string(w.UUID),
		Flow:       w.Flow,
		Contact:    w.Contact,
		StartUUID:  string(w.Start.UUID),
		Responded:  bool(w.Responded),
		CreatedOn:  w.CreatedOn.time(),
		ModifiedOn: w.ModifiedOn.time(),
		ExitedOn:   w.ExitedOn.ptr(),
		ExitType:   string(w.ExitType),
	}
	if r.StartUUID == "" {
		r.StartUUID = string(w.StartUUID)
	}
	if w.Path != nil {
		r.Path = make([]PathStep, len(w.Path))
		for i := range w.Path {
			r.Path[i] = PathStep{Node: string(w.Path[i].Node), Time: w.Path[i].Time.time()}
		}
	}
	if w.Values != nil {
		r.Values = make(map[string]RunValue, len(w.Values))
		for k, v := range w.Values {
			r.Values[k] = v.api()
		}
	}
	return r
}

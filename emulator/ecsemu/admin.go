package ecsemu

import (
	"encoding/json"
	"io"
	"net/http"
)

// adminHandler serves /_emulator/: a JSON API kept off the ECS path "/" so
// it can never be mistaken for an ECS call. It needs no signature.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_emulator/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "actions": Actions()})
	})
	mux.HandleFunc("GET /_emulator/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	mux.HandleFunc("DELETE /_emulator/requests", func(w http.ResponseWriter, r *http.Request) {
		s.ClearRequests()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		rules, err := decodeRules(r.Body)
		if err == nil {
			err = s.AddFaults(rules...)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_emulator/modes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Modes())
	})
	mux.HandleFunc("POST /_emulator/modes", func(w http.ResponseWriter, r *http.Request) {
		var m Modes
		err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&m)
		if err == nil {
			err = s.SetModes(m)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, s.Modes())
	})
	mux.HandleFunc("POST /_emulator/instances/{id}/script", func(w http.ResponseWriter, r *http.Request) {
		var sc InstanceScript
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		err := dec.Decode(&sc)
		if err == nil {
			err = s.SetInstanceScript(r.PathValue("id"), &sc)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_emulator/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.State())
	})
	mux.HandleFunc("POST /_emulator/state", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		var f *Fixture
		if err == nil {
			f, err = ParseFixture(b)
		}
		if err == nil {
			err = s.LoadState(f)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// decodeRules accepts one rule object or an array of them.
func decodeRules(r io.Reader) ([]FaultRule, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	var rules []FaultRule
	if err := json.Unmarshal(b, &rules); err == nil {
		return rules, nil
	}
	var one FaultRule
	if err := json.Unmarshal(b, &one); err != nil {
		return nil, err
	}
	return []FaultRule{one}, nil
}

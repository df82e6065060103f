package browsertest

import "testing"

// TestLocal checks the rule that TestPage applies to every request.
func TestLocal(t *testing.T) {
	r := &recorder{origin: "http://127.0.0.1:40000"}
	for u, want := range map[string]bool{
		"http://127.0.0.1:40000/":                    true,
		"http://127.0.0.1:40000/spikegrad.wasm":      true,
		"data:image/png;base64,AAAA":                 true,
		"blob:http://127.0.0.1:40000/0b6e-4a":        true,
		"http://127.0.0.1:40001/":                    false,
		"http://localhost:40000/":                    false,
		"https://127.0.0.1:40000/":                   false,
		"https://cdn.jsdelivr.net/npm/echarts@5.6.0": false,
		"ws://127.0.0.1:40000/":                      false,
	} {
		if got := r.local(u); got != want {
			t.Errorf("local(%q) = %v, want %v", u, got, want)
		}
	}
}

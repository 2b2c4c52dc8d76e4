package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Fingerprint identifies what the experiment computes: its resolved
// settings (after --set, --strategy and --engine), not the file it came
// from nor where in it a key sits. Shards of one sweep share it, so a
// merge can refuse shards of another configuration.
func (e *Experiment) Fingerprint() string {
	c := *e
	c.File = ""
	c.Sweeps = slices.Clone(e.Sweeps)
	for i := range c.Sweeps {
		c.Sweeps[i].Line = 0
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic("BUG: an experiment does not encode as JSON: " + err.Error())
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

package experiments

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resolved writes the experiment as a config that says every key: each
// run setting, the shared parameters, every parameter of every workload
// with its emulation overrides, and the sweeps, all from the table of keys
// (Keys). Parse reads it back into the same experiment (File aside), so a
// report or baseline that records it (report.json's config) can be run
// again exactly, whatever the original file or --set said and whatever
// defaults later versions choose.
func (e *Experiment) Resolved() []byte {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for i := range keys {
		k := &keys[i]
		path := strings.Split(k.Name, ".") // native.samples is samples under native
		switch {
		case k.Scope == Run:
			if v := k.show(e); v != "" || k.Required {
				put(root, path, valueNode(k.Type, v))
			}
		case k.Scope == Shared && len(e.Workloads) > 0:
			// A config sets shared parameters for every workload: the
			// first one's stand for all.
			put(root, path, valueNode(k.Type, k.showParam(&e.Workloads[0].Native)))
		}
	}
	ws := &yaml.Node{Kind: yaml.MappingNode}
	for _, w := range e.Workloads {
		body, emu := &yaml.Node{Kind: yaml.MappingNode}, &yaml.Node{Kind: yaml.MappingNode}
		if src := w.Native.Source; src != nil {
			put(body, []string{sourceKey}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: src.File})
		}
		for _, k := range ownKeys(w.Native) {
			native, emulated := k.showParam(&w.Native), k.showParam(&w.Emu)
			put(body, []string{k.Name}, valueNode(k.Type, native))
			if emulated != native {
				put(emu, []string{k.Name}, valueNode(k.Type, emulated))
			}
		}
		if len(emu.Content) > 0 {
			put(body, []string{"emulation"}, emu)
		}
		put(ws, []string{w.Kind}, body)
	}
	put(root, []string{"workloads"}, ws)
	if len(e.Sweeps) > 0 {
		sw := &yaml.Node{Kind: yaml.MappingNode}
		for _, s := range e.Sweeps {
			list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, v := range s.Values {
				tag := "!!int"
				if v.IsName() {
					tag = "!!str"
				}
				list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.String()})
			}
			put(sw, []string{s.Key}, list) // a sweep key is one key, dots and all
		}
		put(root, []string{"sweeps"}, sw)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		panic("BUG: encoding a resolved config: " + err.Error())
	}
	enc.Close()
	return b.Bytes()
}

// valueNode is a value as shown by its key (show, showParam) as a YAML
// node of its type.
func valueNode(t Type, v string) *yaml.Node {
	switch t.Kind {
	case Int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: v}
	case List:
		list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, item := range strings.Split(strings.Trim(v, "[]"), ", ") {
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: item})
		}
		return list
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// put sets the entry at path in mapping m to v, creating the sections on
// the way, each where its first entry goes.
func put(m *yaml.Node, path []string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) > 1 {
				put(m.Content[i+1], path[1:], v)
			} else {
				m.Content[i+1] = v
			}
			return
		}
	}
	if len(path) > 1 {
		sub := &yaml.Node{Kind: yaml.MappingNode}
		put(sub, path[1:], v)
		v = sub
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: path[0]}, v)
}

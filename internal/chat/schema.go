package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Schema is the subset of JSON Schema tool arguments use: an object of
// strings, integers, numbers and booleans, with enums, bounds and required
// properties. No other properties are allowed.
type Schema struct {
	Type        string // object, string, integer, number, boolean
	Description string
	Properties  map[string]*Schema
	Required    []string
	Enum        []string
	MaxLength   int // strings; 0 for none
	Format      string
	Minimum     *float64
	Maximum     *float64
}

// Formats a string property may have.
const formatDateTime = "date-time"

// JSON returns the schema as JSON Schema, for the model.
func (s *Schema) JSON() map[string]any {
	out := map[string]any{"type": s.Type}
	if s.Description != "" {
		out["description"] = s.Description
	}
	if s.Type == "object" {
		props := map[string]any{}
		for name, p := range s.Properties {
			props[name] = p.JSON()
		}
		out["properties"] = props
		out["additionalProperties"] = false
		if len(s.Required) > 0 {
			out["required"] = append([]string(nil), s.Required...)
		}
	}
	if len(s.Enum) > 0 {
		out["enum"] = append([]string(nil), s.Enum...)
	}
	if s.MaxLength > 0 {
		out["maxLength"] = s.MaxLength
	}
	if s.Format != "" {
		out["format"] = s.Format
	}
	if s.Minimum != nil {
		out["minimum"] = *s.Minimum
	}
	if s.Maximum != nil {
		out["maximum"] = *s.Maximum
	}
	return out
}

// Validate checks raw arguments against an object schema and returns a
// message the model can act on.
func (s *Schema) Validate(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	var args map[string]json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil || args == nil {
		return fmt.Errorf("arguments must be a JSON object")
	}
	for _, name := range s.Required {
		if v, ok := args[name]; !ok || string(v) == "null" {
			return fmt.Errorf("argument %q is required", name)
		}
	}
	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, ok := s.Properties[name]
		if !ok {
			known := make([]string, 0, len(s.Properties))
			for k := range s.Properties {
				known = append(known, k)
			}
			sort.Strings(known)
			return fmt.Errorf("unknown argument %q (known: %s)", name, strings.Join(known, ", "))
		}
		if string(args[name]) == "null" {
			continue
		}
		if err := p.check(args[name]); err != nil {
			return fmt.Errorf("argument %q %w", name, err)
		}
	}
	return nil
}

func (s *Schema) check(raw json.RawMessage) error {
	switch s.Type {
	case "string":
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return fmt.Errorf("must be a string")
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
			return fmt.Errorf("must be one of %s", strings.Join(s.Enum, ", "))
		}
		if s.MaxLength > 0 && utf8.RuneCountInString(v) > s.MaxLength {
			return fmt.Errorf("must be at most %d characters", s.MaxLength)
		}
		if s.Format == formatDateTime {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z")
			}
		}
	case "integer", "number":
		var v float64
		if json.Unmarshal(raw, &v) != nil {
			return fmt.Errorf("must be a number")
		}
		if s.Type == "integer" && v != math.Trunc(v) {
			return fmt.Errorf("must be a whole number")
		}
		if s.Minimum != nil && v < *s.Minimum {
			return fmt.Errorf("must be at least %v", *s.Minimum)
		}
		if s.Maximum != nil && v > *s.Maximum {
			return fmt.Errorf("must be at most %v", *s.Maximum)
		}
	case "boolean":
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			return fmt.Errorf("must be true or false")
		}
	default:
		return fmt.Errorf("has an unsupported type %q", s.Type)
	}
	return nil
}

// Schema constructors keep the agents' tool definitions short.

func object(required []string, props map[string]*Schema) Schema {
	return Schema{Type: "object", Properties: props, Required: required}
}

func str(desc string, maxLen int) *Schema {
	return &Schema{Type: "string", Description: desc, MaxLength: maxLen}
}

func enum(desc string, values ...string) *Schema {
	return &Schema{Type: "string", Description: desc, Enum: values}
}

func dateTime(desc string) *Schema {
	return &Schema{Type: "string", Description: desc, Format: formatDateTime}
}

func integer(desc string, lo, hi float64) *Schema {
	return &Schema{Type: "integer", Description: desc, Minimum: &lo, Maximum: &hi}
}

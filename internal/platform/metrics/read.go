package metrics

import "fmt"

// Read returns the value of one series of Registry: the family called name, the
// series whose labels are labels (name, value pairs; the series' other labels are
// not compared). A counter or gauge gives its value, a histogram its sample count; a
// series not yet written reads 0. It gathers the whole registry, so it is for tests
// and diagnostics, not for a hot path.
func Read(name string, labels ...string) (float64, error) {
	if len(labels)%2 != 0 {
		return 0, fmt.Errorf("metrics: labels must be name, value pairs, got %d strings", len(labels))
	}
	families, err := Registry.Gather()
	if err != nil {
		return 0, err
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
						break
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), nil
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), nil
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), nil
			case m.GetUntyped() != nil:
				return m.GetUntyped().GetValue(), nil
			}
		}
	}
	return 0, nil
}

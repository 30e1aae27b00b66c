package persona

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// Weights of the overall score: what the inputs hold counts most, then how much of
// the persona rests on them, then whether they agree.
const (
	weightCompleteness = 0.4
	weightSpecificity  = 0.35
	weightConsistency  = 0.25
)

// assess scores how well the inputs support a persona. It looks at the inputs and at
// how the rules generator used them, never at who wrote the persona, so a language
// model's persona gets the score its inputs earn. notes come first.
func assess(v view, b built, notes []string) models.PersonaQuality {
	out := append([]string{}, notes...)
	completeness, n := v.completeness()
	out = append(out, n...)
	specificity, n := specificity(b)
	out = append(out, n...)
	consistency, n := v.consistency()
	out = append(out, n...)
	return models.PersonaQuality{
		Completeness: round1(completeness),
		Specificity:  round1(specificity),
		Consistency:  round1(consistency),
		Overall:      round1(weightCompleteness*completeness + weightSpecificity*specificity + weightConsistency*consistency),
		Notes:        cleanList(out, 20, maxText),
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// completeness is the share of useful inputs present, 0 to 100, with a note for
// each important one that is missing.
func (v view) completeness() (float64, []string) {
	_, hasBrand := v.brand()
	_, hasAudience := v.audience()
	_, hasTone := v.requestedTone()
	hasDescription := (v.biz != nil && clean(v.biz.Description, maxText) != "") || (v.web != nil && clean(v.web.Description, maxText) != "")
	hasIndustry := v.biz != nil && clean(v.biz.Industry, maxText) != ""
	hasContent := (v.biz != nil && len(cleanList(v.biz.Products, 1, maxText)) > 0) || (v.measured && len(v.web.TopTerms) > 0)
	hasGoals := v.biz != nil && len(cleanList(v.biz.BusinessGoals, 1, maxText)) > 0
	hasContentTypes := v.prefs != nil && len(v.prefs.ContentTypes) > 0

	websiteNote := "no website analysis; tone, vocabulary and sentence style were not measured"
	switch {
	case v.thin != nil:
		websiteNote = fmt.Sprintf("the %s had too little text (%d words) to use; tone, vocabulary and sentence style were not measured", analysisOf(v.thin), v.thin.WordCount)
	case v.web != nil:
		websiteNote = fmt.Sprintf("the %s has too little text (%d words) to measure; tone, vocabulary and sentence style were not measured", analysisOf(v.web), v.web.WordCount)
	}
	toneNote := "no writing tone chosen; a neutral default was used"
	if len(v.siteTone()) > 0 || v.formality() != "" {
		toneNote = "no writing tone chosen; the tone follows the website"
	}

	items := []struct {
		ok   bool
		note string // "" for inputs whose absence is not worth a note
	}{
		{v.measured, websiteNote},
		{hasDescription, ""},
		{hasBrand, "no business name or site title; a placeholder name was used"},
		{hasAudience, "no target audience given; a generic one was used"},
		{hasTone, toneNote},
		{hasIndustry, "no industry given; the archetype rests on other signals"},
		{hasContent, "no products and no frequent website terms; key topics could not be drawn from your content"},
		{hasGoals, ""},
		{hasContentTypes, ""},
		{v.style != nil, ""},
	}
	present := 0
	var notes []string
	for _, it := range items {
		if it.ok {
			present++
		} else if it.note != "" {
			notes = append(notes, it.note)
		}
	}
	return 100 * float64(present) / float64(len(items)), notes
}

// specificity is the share of the persona's core fields drawn from the user's data
// rather than defaults, 0 to 100.
func specificity(b built) (float64, []string) {
	fields := scoredFields()
	var notes []string
	if slices.Contains(b.defaulted, "archetype") {
		notes = append(notes, "nothing pointed to a particular archetype; The Guide is a neutral default")
	}
	return 100 * float64(len(fields)-len(b.defaulted)) / float64(len(fields)), notes
}

// consistency is how well the requested tone and language agree with what was
// measured on the website, 0 to 100: the mean of the checks that can be made. With
// nothing to compare, nothing disagrees, and it is 100 with a note saying so.
func (v view) consistency() (float64, []string) {
	var checks []float64
	var notes []string
	tone, hasTone := v.requestedTone()
	if hasTone {
		if f := v.formality(); f != "" {
			fit := formalityFit(tone, f)
			checks = append(checks, fit)
			if fit == 0 {
				notes = append(notes, fmt.Sprintf("you asked for a %s tone but the website reads as %s; the persona follows your choice", strings.ToLower(string(tone)), strings.ToLower(f)))
			}
		}
		if site := v.siteTone(); len(site) > 0 {
			agreeWords, clashWords := toneFit(tone)
			w := words(strings.Join(site, " "))
			var agree, clash []string
			for _, a := range agreeWords {
				if hasPhrase(w, a) {
					agree = append(agree, a)
				}
			}
			for _, c := range clashWords {
				if hasPhrase(w, c) {
					clash = append(clash, c)
				}
			}
			switch {
			case len(agree) > 0 && len(clash) == 0:
				checks = append(checks, 1)
			case len(clash) > 0 && len(agree) == 0:
				checks = append(checks, 0)
			case len(clash) > 0:
				checks = append(checks, 0.5)
			default:
				checks = append(checks, 0.75)
			}
			if len(clash) > 0 {
				notes = append(notes, fmt.Sprintf("the website's tone (%s) clashes with the %s tone you asked for; the persona follows your choice", joinAnd(clash), strings.ToLower(string(tone))))
			}
		}
	}
	if v.prefs != nil && v.web != nil {
		want, have := primaryLanguage(v.prefs.Language), primaryLanguage(v.web.Language)
		if want != "" && have != "" {
			if want == have {
				checks = append(checks, 1)
			} else {
				checks = append(checks, 0)
				notes = append(notes, fmt.Sprintf("your preferred language (%s) differs from the website's (%s)", want, have))
			}
		}
	}
	if len(checks) == 0 {
		return 100, []string{"consistency was not checked: it needs both a requested writing tone and a measured website tone"}
	}
	sum := 0.0
	for _, c := range checks {
		sum += c
	}
	return 100 * sum / float64(len(checks)), notes
}

// primaryLanguage is the primary subtag of a BCP 47 tag, lower case: "en-GB" → "en".
func primaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

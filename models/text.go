package models

import (
	"unicode"
	"unicode/utf8"
)

// CheckText refuses text that is not valid UTF-8 or holds a control character: none
// in a line (a name, a title), none but tab, line feed and carriage return in long
// text (a description, a value). The error is BAD_USER_INPUT for field, naming the
// text as what.
func CheckText(field, what, text string, long bool) error {
	if !utf8.ValidString(text) {
		return InvalidInput(field, "%s is not valid UTF-8", what)
	}
	for _, r := range text {
		if !unicode.IsControl(r) || long && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if long {
			return InvalidInput(field, "%s has a control character (%U): only tabs and line breaks are allowed", what, r)
		}
		return InvalidInput(field, "%s has a control character (%U): it is one line of text", what, r)
	}
	return nil
}

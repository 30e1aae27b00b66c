package config

import (
	"fmt"
	"io"
	"strings"
)

// WriteSettings writes every variable Vars lists, for the command's help: its name,
// its flag, its default and what it does, wrapped for a terminal.
func WriteSettings(w io.Writer) error {
	var b strings.Builder
	b.WriteString("Settings (environment variables; a flag, where there is one, wins over its variable):\n")
	for _, v := range Vars() {
		b.WriteString("\n  " + v.Name)
		if v.Flag != "" {
			b.WriteString(", --" + v.Flag)
		}
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		b.WriteString("\n      default: " + def + "\n")
		for _, line := range wrap(strings.ReplaceAll(v.Help, "`", ""), 84) {
			b.WriteString("      " + line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownRow is v's row in README.md's configuration table (TestREADME holds the
// table to Vars).
func MarkdownRow(v Var) string {
	name := "`" + v.Name + "`"
	if v.Flag != "" {
		name += " (`--" + v.Flag + "`)"
	}
	def := "(empty)"
	if v.Default != "" {
		def = "`" + v.Default + "`"
	}
	return fmt.Sprintf("| %s | %s | %s |", name, def, v.Help)
}

// wrap breaks s into lines of at most width bytes, between words.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

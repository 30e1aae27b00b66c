package extract

import (
	"strconv"
	"strings"
)

// The simple font encodings of PDF (ISO 32000-1 Annex D) that writers use for
// text, and the glyph names a /Differences array most often gives.

// The tables are built once, from the lists below; nothing changes them.
var winAnsi, macRoman, standard = buildEncodings()

// cp1252 is WinAnsiEncoding's 0x80-0x9F.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

const macHigh = "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»…\u00a0ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ"

var glyphNames = map[string]rune{
	"space": ' ', "exclam": '!', "quotedbl": '"', "numbersign": '#', "dollar": '$', "percent": '%',
	"ampersand": '&', "quotesingle": '\'', "quoteright": '’', "parenleft": '(', "parenright": ')',
	"asterisk": '*', "plus": '+', "comma": ',', "hyphen": '-', "minus": '−', "period": '.', "slash": '/',
	"zero": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6',
	"seven": '7', "eight": '8', "nine": '9', "colon": ':', "semicolon": ';', "less": '<', "equal": '=',
	"greater": '>', "question": '?', "at": '@', "bracketleft": '[', "backslash": '\\',
	"bracketright": ']', "asciicircum": '^', "underscore": '_', "grave": '`', "quoteleft": '‘',
	"braceleft": '{', "bar": '|', "braceright": '}', "asciitilde": '~', "bullet": '•',
	"endash": '–', "emdash": '—', "ellipsis": '…', "quotedblleft": '“', "quotedblright": '”',
	"quotesinglbase": '‚', "quotedblbase": '„', "dagger": '†', "daggerdbl": '‡', "perthousand": '‰',
	"fi": 'ﬁ', "fl": 'ﬂ', "Euro": '€', "trademark": '™', "copyright": '©', "registered": '®',
	"degree": '°', "section": '§', "paragraph": '¶', "nbspace": '\u00a0', "sterling": '£', "yen": '¥',
	"cent": '¢', "germandbls": 'ß', "AE": 'Æ', "ae": 'æ', "OE": 'Œ', "oe": 'œ', "Oslash": 'Ø',
	"oslash": 'ø', "dotlessi": 'ı', "guillemotleft": '«', "guillemotright": '»', "periodcentered": '·',
	"multiply": '×', "divide": '÷', "plusminus": '±', "mu": 'µ', "exclamdown": '¡', "questiondown": '¿',
}

// Accented Latin letters are named letter + accent, e.g. eacute.
var accents = map[string]string{
	"grave": "\u0300", "acute": "\u0301", "circumflex": "\u0302", "tilde": "\u0303",
	"dieresis": "\u0308", "ring": "\u030a", "cedilla": "\u0327", "caron": "\u030c",
}

var composed = map[string]rune{
	"a\u0300": 'à', "a\u0301": 'á', "a\u0302": 'â', "a\u0303": 'ã', "a\u0308": 'ä', "a\u030a": 'å',
	"e\u0300": 'è', "e\u0301": 'é', "e\u0302": 'ê', "e\u0308": 'ë', "i\u0300": 'ì', "i\u0301": 'í',
	"i\u0302": 'î', "i\u0308": 'ï', "o\u0300": 'ò', "o\u0301": 'ó', "o\u0302": 'ô', "o\u0303": 'õ',
	"o\u0308": 'ö', "u\u0300": 'ù', "u\u0301": 'ú', "u\u0302": 'û', "u\u0308": 'ü', "y\u0301": 'ý',
	"y\u0308": 'ÿ', "n\u0303": 'ñ', "c\u0327": 'ç', "s\u030c": 'š', "z\u030c": 'ž',
	"A\u0300": 'À', "A\u0301": 'Á', "A\u0302": 'Â', "A\u0303": 'Ã', "A\u0308": 'Ä', "A\u030a": 'Å',
	"E\u0300": 'È', "E\u0301": 'É', "E\u0302": 'Ê', "E\u0308": 'Ë', "I\u0300": 'Ì', "I\u0301": 'Í',
	"I\u0302": 'Î', "I\u0308": 'Ï', "O\u0300": 'Ò', "O\u0301": 'Ó', "O\u0302": 'Ô', "O\u0303": 'Õ',
	"O\u0308": 'Ö', "U\u0300": 'Ù', "U\u0301": 'Ú', "U\u0302": 'Û', "U\u0308": 'Ü', "Y\u0301": 'Ý',
	"N\u0303": 'Ñ', "C\u0327": 'Ç', "S\u030c": 'Š', "Z\u030c": 'Ž',
}

// glyphRune maps a glyph name to its character: the names above, single
// letters, uniXXXX and uXXXX[XX].
func glyphRune(name string) (rune, bool) {
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i] // a variant such as a.sc
	}
	if r, ok := glyphNames[name]; ok {
		return r, true
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return rune(name[0]), true
	}
	if hex, ok := strings.CutPrefix(name, "uni"); ok && len(hex) == 4 {
		if v, err := strconv.ParseUint(hex, 16, 32); err == nil {
			return rune(v), true
		}
	}
	if hex, ok := strings.CutPrefix(name, "u"); ok && len(hex) >= 4 && len(hex) <= 6 {
		if v, err := strconv.ParseUint(hex, 16, 32); err == nil && v <= 0x10ffff {
			return rune(v), true
		}
	}
	if len(name) > 1 {
		if mark, ok := accents[name[1:]]; ok {
			if r, ok := composed[name[:1]+mark]; ok {
				return r, true
			}
		}
	}
	return 0, false
}

func buildEncodings() (winAnsi, macRoman, standard [256]rune) {
	for c := 0x20; c < 0x7f; c++ {
		winAnsi[c], macRoman[c], standard[c] = rune(c), rune(c), rune(c)
	}
	for _, c := range []int{'\t', '\n', '\r'} {
		winAnsi[c], macRoman[c], standard[c] = ' ', ' ', ' '
	}
	for i, r := range cp1252 {
		winAnsi[0x80+i] = r
	}
	for c := 0xa0; c <= 0xff; c++ {
		winAnsi[c] = rune(c)
	}
	i := 0x80
	for _, r := range macHigh {
		macRoman[i] = r
		i++
	}
	standard['\''], standard['`'] = '’', '‘'
	return winAnsi, macRoman, standard
}

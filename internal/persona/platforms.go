package persona

import (
	"fmt"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// The platforms of models.Platforms, named for the rules.
const (
	platformLinkedIn   models.Platform = "LINKEDIN"
	platformX          models.Platform = "X"
	platformFacebook   models.Platform = "FACEBOOK"
	platformInstagram  models.Platform = "INSTAGRAM"
	platformBlog       models.Platform = "BLOG"
	platformMedium     models.Platform = "MEDIUM"
	platformNewsletter models.Platform = "NEWSLETTER"
)

// Emoji use, as PlatformPersona.EmojiUse spells it, from least to most.
const (
	emojiNone    = "NONE"
	emojiSparing = "SPARING"
	emojiFree    = "FREE"
)

// platformSpec holds a platform's facts, which hold whatever the persona.
type platformSpec struct {
	platform  models.Platform
	maxLength int // characters; 0: no limit
	ideal     string
	hashtags  int // suggested count, within minTags..maxTags
	minTags   int
	maxTags   int
	tagRange  string // for people: the recommended range
	emoji     string // for a neutral tone
	social    bool   // a feed, where a casual tone may use more emoji
	shift     string // how the core tone adapts here
	format    string
	guidance  []string
}

func platformSpecs() []platformSpec {
	return []platformSpec{
		{
			platform: platformLinkedIn, maxLength: 3000, ideal: "1,300–2,000 characters",
			hashtags: 3, minTags: 3, maxTags: 5, tagRange: "3–5", emoji: emojiSparing, social: true,
			shift:  "more professional on LinkedIn: insight and experience first, no slang",
			format: `Text post: a hook in the first two lines (before "see more"), short paragraphs of one or two sentences with white space between them, a question or call to action at the end`,
			guidance: []string{
				`Put the hook in the first 210 characters; LinkedIn folds the rest behind "see more"`,
				"Stay within 3,000 characters; 1,300–2,000 is the sweet spot",
				"Use 3–5 relevant hashtags at the end of the post",
				"Share a lesson, a number or an opinion rather than an announcement",
				"Reply to comments in the first hour to keep the conversation going",
			},
		},
		{
			platform: platformX, maxLength: 280, ideal: "71–100 characters",
			hashtags: 1, minTags: 0, maxTags: 2, tagRange: "0–2", emoji: emojiSparing, social: true,
			shift:  "punchier on X: one idea, short sentences, a strong first line",
			format: "Single post with one idea; a thread of 3–7 posts for anything longer, each post standing on its own",
			guidance: []string{
				"Stay within 280 characters a post",
				"Use 0–2 hashtags; more reads as spam",
				"Lead with the point: there is no room to warm up",
				"Number the posts of a thread (1/5) so readers know where they are",
			},
		},
		{
			platform: platformFacebook, maxLength: 63206, ideal: "40–80 characters",
			hashtags: 0, minTags: 0, maxTags: 2, tagRange: "0–2", emoji: emojiSparing, social: true,
			shift:  "warmer and more conversational on Facebook: community first",
			format: "Short post with an image, video or link; a question that invites comments",
			guidance: []string{
				"Posts of 40–80 characters get the most engagement; the limit is 63,206",
				"Ask questions and answer comments to start conversations",
				"Hashtags are optional: two at most",
				"Pair the text with an image or a short video",
			},
		},
		{
			platform: platformInstagram, maxLength: 2200, ideal: "125–150 characters before the \"more\" fold; up to 2,200",
			hashtags: 5, minTags: 0, maxTags: 30, tagRange: "5–10, 30 at most", emoji: emojiFree, social: true,
			shift:  "more visual and personal on Instagram: captions that support the image",
			format: `Caption for an image, carousel or reel: a first line that works before the "more" fold, a short story or tip, a call to action`,
			guidance: []string{
				`Keep captions within 2,200 characters; only the first 125 or so show before "more"`,
				"Use 5–10 targeted hashtags (30 at most), at the end of the caption or in the first comment",
				"Let the visual carry the message; the caption adds context",
				`Links in captions are not clickable: point to the link in bio`,
			},
		},
		{
			platform: platformBlog, maxLength: 0, ideal: "1,500–2,500 words",
			hashtags: 0, minTags: 0, maxTags: 0, tagRange: "none", emoji: emojiNone,
			shift:  "in depth on the blog: explanatory, structured and thorough",
			format: "Long-form article: a title under 60 characters, an introduction naming the reader's problem, H2 and H3 sections, lists where they help, a conclusion with a call to action",
			guidance: []string{
				"Aim for 1,500–2,500 words; depth beats padding",
				"Write a meta description under 160 characters",
				"Use one H1 and descriptive H2 and H3 headings that scan",
				"Link to related posts and to your sources",
			},
		},
		{
			platform: platformMedium, maxLength: 0, ideal: "about 1,600 words (a 7-minute read)",
			hashtags: 0, minTags: 0, maxTags: 0, tagRange: "none; up to 5 topic tags instead", emoji: emojiNone,
			shift:  "reflective and personal on Medium: a clear point of view backed by experience",
			format: "Essay: a strong headline and subtitle, a personal opening, sections with subheadings, a memorable close",
			guidance: []string{
				"Aim for a 7-minute read, about 1,600 words",
				"Add up to 5 topics (tags) so Medium can place the story",
				"Write a subtitle that promises a concrete takeaway",
				"Share first-hand experience: Medium readers reward a personal angle",
			},
		},
		{
			platform: platformNewsletter, maxLength: 0, ideal: "500–1,000 words",
			hashtags: 0, minTags: 0, maxTags: 0, tagRange: "none", emoji: emojiSparing,
			shift:  "personal and direct in the newsletter: like a note to a reader who chose to hear from you",
			format: "Email: a subject line under 50 characters, preview text, one main story, two or three short items, one call to action",
			guidance: []string{
				"Keep each issue to 500–1,000 words",
				"Write subject lines under 50 characters and fill in the preview text",
				"Give each issue one primary call to action",
				"Send on a steady schedule so readers know when to expect you",
			},
		},
	}
}

// specFor returns p's facts; ok is false for an unknown platform.
func specFor(p models.Platform) (platformSpec, bool) {
	for _, s := range platformSpecs() {
		if s.platform == p {
			return s, true
		}
	}
	return platformSpec{}, false
}

// platformPersona adapts core to platform p, which must be valid.
func (v view) platformPersona(p models.Platform, core models.CorePersona) models.PlatformPersona {
	s, _ := specFor(p)
	tone := core.Tone[:min(2, len(core.Tone))]
	guidance := append([]string{}, s.guidance...)
	if len(core.KeyTopics) > 0 {
		guidance = append(guidance, "Rotate through the key topics: "+joinAnd(core.KeyTopics[:min(3, len(core.KeyTopics))]))
		if s.hashtags > 0 {
			var tags []string
			for _, t := range core.KeyTopics {
				if h := hashtag(t); h != "" && len(tags) < s.hashtags {
					tags = append(tags, h)
				}
			}
			if len(tags) > 0 {
				guidance = append(guidance, "Hashtags to start from: "+strings.Join(tags, " "))
			}
		}
	}
	if v.prefs != nil && v.prefs.FactualContent && !s.social {
		guidance = append(guidance, "Cite a source for every figure and claim")
	}
	return models.PlatformPersona{
		Platform:        p,
		Tone:            clean(fmt.Sprintf("%s; %s", upperFirst(joinAnd(tone)), s.shift), maxText),
		Format:          s.format,
		MaxLength:       s.maxLength,
		IdealLength:     s.ideal,
		Hashtags:        s.hashtags,
		EmojiUse:        v.emoji(s),
		PostingGuidance: cleanList(guidance, maxItems, maxText),
	}
}

// emoji adapts a platform's emoji use to the tone: a formal tone uses fewer, a casual
// one more on social feeds (LinkedIn stays sparing; long-form stays without).
func (v view) emoji(s platformSpec) string {
	tone, _ := v.requestedTone()
	f := v.formality()
	isFormal := tone == toneProfessional || tone == toneAuthoritative || tone == toneTechnical || (tone == "" && f == formal)
	isCasual := tone == toneFriendly || tone == toneConversational || tone == tonePlayful || (tone == "" && f == casual)
	switch {
	case isFormal && s.emoji == emojiFree:
		return emojiSparing
	case isFormal:
		return emojiNone
	case isCasual && s.social && s.platform != platformLinkedIn:
		return emojiFree
	}
	return s.emoji
}

package models

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/uptrace/bun"
)

// Step is one of the onboarding wizard's six steps, numbered 1 to 6.
type Step int

const (
	StepProviderKeys Step = 1
	StepWebsite      Step = 2
	StepResearch     Step = 3
	StepPersona      Step = 4
	StepIntegrations Step = 5
	StepFinal        Step = 6

	StepCount = 6
)

// MarshalGQL writes the step as a GraphQL Int.
func (s Step) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Itoa(int(s))) }

// UnmarshalGQL reads a GraphQL Int; the range is checked where steps are used, so
// the error can name the operation's field.
func (s *Step) UnmarshalGQL(v any) error {
	n, err := graphql.UnmarshalInt(v)
	if err != nil {
		return err
	}
	*s = Step(n)
	return nil
}

// StepInfo describes a step of the wizard.
type StepInfo struct {
	Step     Step
	Key      string // API_KEYS, WEBSITE, RESEARCH, PERSONA, INTEGRATIONS, FINAL
	Title    string
	Required bool
}

// Steps lists the wizard's steps in order.
func Steps() []StepInfo {
	return []StepInfo{
		{StepProviderKeys, "API_KEYS", "Provider API keys", true},
		{StepWebsite, "WEBSITE", "Website analysis or business information", true},
		{StepResearch, "RESEARCH", "Research preferences", true},
		{StepPersona, "PERSONA", "Writing persona", false},
		{StepIntegrations, "INTEGRATIONS", "Integrations", false},
		{StepFinal, "FINAL", "Summary and completion", true},
	}
}

// Info returns the step's description; s must be in range.
func (s Step) Info() StepInfo { return Steps()[s-1] }

// Valid reports whether s is a step number.
func (s Step) Valid() bool { return s >= 1 && s <= StepCount }

// StepStatus is where a step stands.
type StepStatus string

const (
	StepPending    StepStatus = "PENDING"
	StepInProgress StepStatus = "IN_PROGRESS"
	StepCompleted  StepStatus = "COMPLETED"
	StepSkipped    StepStatus = "SKIPPED"
)

// Done reports whether the step needs no more work.
func (s StepStatus) Done() bool { return s == StepCompleted || s == StepSkipped }

// OnboardingProgress is a user's run through the wizard.
type OnboardingProgress struct {
	bun.BaseModel `bun:"table:onboarding_progress"`

	UserID      string     `bun:"user_id,pk"`
	CurrentStep Step       `bun:"current_step,notnull"`
	StartedAt   *time.Time `bun:"started_at,notnull"` // nil until the user starts
	CompletedAt *time.Time `bun:"completed_at"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`

	// Steps is filled in from onboarding_steps, always all six in order.
	Steps []*OnboardingStep `bun:"-"`
}

// Percentage is the share of steps completed or skipped, 0 to 100.
func (p *OnboardingProgress) Percentage() float64 {
	done := 0
	for _, s := range p.Steps {
		if s.Status.Done() {
			done++
		}
	}
	return float64(done) * 100 / StepCount
}

// IsCompleted reports whether completeOnboarding has succeeded.
func (p *OnboardingProgress) IsCompleted() bool { return p.CompletedAt != nil }

// OnboardingStep is one step's status for one user.
type OnboardingStep struct {
	bun.BaseModel `bun:"table:onboarding_steps"`

	UserID      string     `bun:"user_id,pk"`
	Step        Step       `bun:"step,pk"`
	Status      StepStatus `bun:"status,notnull"`
	StartedAt   *time.Time `bun:"started_at"`
	CompletedAt *time.Time `bun:"completed_at"`
	SkippedAt   *time.Time `bun:"skipped_at"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
}

// Key, Title and Required describe the step, for GraphQL.
func (s *OnboardingStep) Key() string    { return s.Step.Info().Key }
func (s *OnboardingStep) Title() string  { return s.Step.Info().Title }
func (s *OnboardingStep) Required() bool { return s.Step.Info().Required }

// ResumeInfo tells the frontend where to send a returning user.
type ResumeInfo struct {
	Step      Step
	Reason    string
	Completed bool
	// MissingSteps are the required steps not yet completed, in order.
	MissingSteps []Step
}

// ResetResult says what resetOnboarding did.
type ResetResult struct {
	Progress *OnboardingProgress
	// DataDeleted is true when the saved data (keys, website, business info,
	// preferences, personas, integrations) was deleted too; otherwise it was kept.
	DataDeleted bool
	// Deleted and Kept name the kinds of saved data, for the frontend to tell the user.
	Deleted []string
	Kept    []string
}

// ProviderKind tells LLM providers from research providers.
type ProviderKind string

const (
	ProviderLLM      ProviderKind = "LLM"
	ProviderResearch ProviderKind = "RESEARCH"
)

// Provider is an entry in the provider registry.
type Provider struct {
	ID          string // openai, anthropic, gemini, mistral, tavily, serper, exa
	Name        string
	Kind        ProviderKind
	DocsURL     string
	KeyFormat   string // human-readable description, e.g. "starts with sk-"
	KeyExample  string // a masked example, e.g. "sk-…abcd"
	Description string
}

// ProviderKey is a user's API key for one provider, encrypted at rest. The plaintext
// never leaves the service that opened it; clients see Masked.
type ProviderKey struct {
	bun.BaseModel `bun:"table:provider_keys"`

	ID             string     `bun:"id,pk"`
	UserID         string     `bun:"user_id,notnull"`
	Provider       string     `bun:"provider,notnull"`
	Ciphertext     []byte     `bun:"ciphertext,notnull"`
	KeyVersion     int        `bun:"key_version,notnull"`
	Masked         string     `bun:"masked,notnull"`
	FormatValid    bool       `bun:"format_valid,notnull"`
	Status         KeyStatus  `bun:"status,notnull"`
	LastVerifiedAt *time.Time `bun:"last_verified_at"`
	LastError      string     `bun:"last_error,notnull"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
}

// Validated reports whether the key counts as a working key: well formed and, when
// keys are checked live, accepted by the provider.
func (k *ProviderKey) Validated(live bool) bool {
	if !k.FormatValid {
		return false
	}
	if live {
		return k.Status == KeyVerified
	}
	return k.Status == KeyVerified || k.Status == KeyFormatOK
}

// KeyStatus summarises a key's validation: VERIFIED (the provider accepted it),
// FORMAT_OK (well formed, not checked live), INVALID (the provider refused it),
// UNVERIFIED (live check failed for another reason; retry later) or UNREADABLE (the
// stored value cannot be opened: enter the key again). UNREADABLE is never stored;
// the service shows it in place of the stored status when it cannot open the value.
type KeyStatus string

const (
	KeyVerified   KeyStatus = "VERIFIED"
	KeyFormatOK   KeyStatus = "FORMAT_OK"
	KeyInvalid    KeyStatus = "INVALID"
	KeyUnverified KeyStatus = "UNVERIFIED"
	KeyUnreadable KeyStatus = "UNREADABLE"
)

// WebsiteAnalysis is what analyzing a user's website found. Re-analysis replaces it.
type WebsiteAnalysis struct {
	bun.BaseModel `bun:"table:website_analyses"`

	UserID     string    `bun:"user_id,pk"`
	URL        string    `bun:"url,notnull"`       // as the user gave it, normalised
	FinalURL   string    `bun:"final_url,notnull"` // after redirects
	AnalyzedAt time.Time `bun:"analyzed_at,notnull"`

	Title           string         `bun:"title,notnull"`
	Description     string         `bun:"description,notnull"`
	Headings        []Heading      `bun:"headings,type:text,notnull"`
	WordCount       int            `bun:"word_count,notnull"`
	ReadingLevel    ReadingLevel   `bun:"reading_level,type:text,notnull"`
	Language        string         `bun:"language,notnull"` // BCP 47 tag, "" when unknown
	TopTerms        []TermCount    `bun:"top_terms,type:text,notnull"`
	Tone            ToneSignals    `bun:"tone,type:text,notnull"`
	Style           *StyleAnalysis `bun:"style,type:text"` // only with an LLM configured
	Brand           *Brand         `bun:"brand,type:text"` // only with brand analysis enabled
	ContentType     string         `bun:"content_type,notnull"`
	FetchedBytes    int64          `bun:"fetched_bytes,notnull"`
	FetchDurationMS int64          `bun:"fetch_duration_ms,notnull"`
}

// Heading is one h1–h3 of a page.
type Heading struct {
	Level int    `json:"level"`
	Text  string `json:"text"`
}

// ReadingLevel is a Flesch reading-ease score and its grade band.
type ReadingLevel struct {
	FleschReadingEase float64 `json:"fleschReadingEase"`
	GradeLevel        float64 `json:"gradeLevel"` // Flesch–Kincaid grade
	Label             string  `json:"label"`      // e.g. "plain English", "difficult"
}

// TermCount is a frequent content word.
type TermCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// ToneSignals are measurable hints of a text's tone.
type ToneSignals struct {
	AvgSentenceLength   float64  `json:"avgSentenceLength"`
	QuestionRatio       float64  `json:"questionRatio"`    // sentences ending in ?
	ExclamationRatio    float64  `json:"exclamationRatio"` // sentences ending in !
	SecondPersonRatio   float64  `json:"secondPersonRatio"`
	FirstPersonPlural   float64  `json:"firstPersonPlural"` // we/our/us per word
	Formality           string   `json:"formality"`         // FORMAL, NEUTRAL, CASUAL
	Labels              []string `json:"labels"`            // e.g. "conversational", "promotional"
	CallToActionPhrases []string `json:"callToActionPhrases"`
}

// StyleAnalysis is an LLM's reading of the site's writing style.
type StyleAnalysis struct {
	Tone         string   `json:"tone"`
	Voice        string   `json:"voice"`
	Audience     string   `json:"audience"`
	Complexity   string   `json:"complexity"`
	KeyMessages  []string `json:"keyMessages"`
	Model        string   `json:"model"`
	GeneratedBy  string   `json:"generatedBy"`
	Observations []string `json:"observations"`
}

// Brand is what the page declares of its look.
type Brand struct {
	Colors     []string `json:"colors"` // #rrggbb, most used first
	Fonts      []string `json:"fonts"`
	ThemeColor string   `json:"themeColor"`
	SiteName   string   `json:"siteName"`
	LogoURL    string   `json:"logoUrl"`
}

// BusinessInfo stands in for a website analysis for users without a website.
type BusinessInfo struct {
	bun.BaseModel `bun:"table:business_infos"`

	ID             string    `bun:"id,notnull"`
	UserID         string    `bun:"user_id,pk"`
	BusinessName   string    `bun:"business_name,notnull"`
	Description    string    `bun:"description,notnull"`
	Industry       string    `bun:"industry,notnull"`
	TargetAudience string    `bun:"target_audience,notnull"`
	BusinessGoals  []string  `bun:"business_goals,type:text,notnull"`
	Products       []string  `bun:"products,type:text,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// ResearchDepth is how deep automatic research goes.
type ResearchDepth string

const (
	DepthBasic         ResearchDepth = "BASIC"
	DepthStandard      ResearchDepth = "STANDARD"
	DepthComprehensive ResearchDepth = "COMPREHENSIVE"
	DepthExpert        ResearchDepth = "EXPERT"
)

// ContentType is a kind of content the user writes.
type ContentType string

// ContentTypes lists the content types a user may pick.
func ContentTypes() []ContentType {
	return []ContentType{"BLOG_POST", "SOCIAL_POST", "NEWSLETTER", "ARTICLE", "WHITEPAPER", "CASE_STUDY", "PRODUCT_DESCRIPTION", "EMAIL", "VIDEO_SCRIPT", "PRESS_RELEASE"}
}

// ResearchPreferences are how a user wants research and writing done.
type ResearchPreferences struct {
	bun.BaseModel `bun:"table:research_preferences"`

	UserID         string        `bun:"user_id,pk"`
	Depth          ResearchDepth `bun:"depth,notnull"`
	ContentTypes   []ContentType `bun:"content_types,type:text,notnull"`
	AutoResearch   bool          `bun:"auto_research,notnull"`
	FactualContent bool          `bun:"factual_content,notnull"`
	TargetAudience string        `bun:"target_audience,notnull"`
	WritingTone    WritingTone   `bun:"writing_tone,notnull"`
	Language       string        `bun:"language,notnull"`
	UpdatedAt      time.Time     `bun:"updated_at,notnull"`
}

// WritingTone is the tone a user asks for.
type WritingTone string

// WritingTones lists the tones a user may pick.
func WritingTones() []WritingTone {
	return []WritingTone{"PROFESSIONAL", "FRIENDLY", "AUTHORITATIVE", "CONVERSATIONAL", "PLAYFUL", "INSPIRATIONAL", "TECHNICAL"}
}

// Platform is where a persona writes.
type Platform string

// Platforms lists the platforms personas can be made for.
func Platforms() []Platform {
	return []Platform{"LINKEDIN", "X", "FACEBOOK", "INSTAGRAM", "BLOG", "MEDIUM", "NEWSLETTER"}
}

// Integration is a third-party service a user chose in step 5.
type Integration struct {
	bun.BaseModel `bun:"table:onboarding_integrations"`

	UserID    string    `bun:"user_id,pk"`
	Kind      string    `bun:"kind,pk"` // WORDPRESS, WIX, GOOGLE_SEARCH_CONSOLE, …
	Status    string    `bun:"status,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// IntegrationKinds lists the integrations a user may choose.
func IntegrationKinds() []string {
	return []string{"WORDPRESS", "WIX", "GOOGLE_SEARCH_CONSOLE", "GOOGLE_ANALYTICS", "LINKEDIN", "X", "FACEBOOK", "INSTAGRAM", "MEDIUM", "NOTION", "GOOGLE_CALENDAR", "GMAIL"}
}

// Onboarding is the root of the onboarding summary: every field of it is read for
// UserID (the caller) from the operation's one onboarding summary.
type Onboarding struct {
	UserID string
}

// OnboardingConfig is what the wizard needs to render its steps.
type OnboardingConfig struct {
	Steps         []StepInfo
	Providers     []Provider
	Platforms     []Platform
	ContentTypes  []ContentType
	WritingTones  []WritingTone
	Integrations  []string
	LiveKeyCheck  bool
	BrandAnalysis bool
	LLMConfigured bool
	RequiredSteps []Step
	OptionalSteps []Step
}

// PersonaSource says how a persona was made.
type PersonaSource string

const (
	// PersonaFromLLM: a language model wrote it from the user's inputs.
	PersonaFromLLM PersonaSource = "LLM"
	// PersonaFromRules: the deterministic generator built it, without a model.
	PersonaFromRules PersonaSource = "RULES"
)

// Persona is a saved writing persona; each generation adds a version.
type Persona struct {
	bun.BaseModel `bun:"table:personas"`

	ID                string            `bun:"id,pk"`
	UserID            string            `bun:"user_id,notnull"`
	Version           int               `bun:"version,notnull"`
	Active            bool              `bun:"active,notnull"`
	Source            PersonaSource     `bun:"source,notnull"`
	Model             string            `bun:"model,notnull"` // the LLM's model, "" for rules
	Core              CorePersona       `bun:"core,type:text,notnull"`
	PlatformPersonas  []PlatformPersona `bun:"platform_personas,type:text,notnull"`
	Quality           PersonaQuality    `bun:"quality,type:text,notnull"`
	SelectedPlatforms []Platform        `bun:"selected_platforms,type:text,notnull"`
	CreatedAt         time.Time         `bun:"created_at,notnull"`
}

// PersonaDraft is a generated persona that has not been saved (preview).
type PersonaDraft struct {
	Source            PersonaSource
	Model             string
	Core              CorePersona
	PlatformPersonas  []PlatformPersona
	Quality           PersonaQuality
	SelectedPlatforms []Platform
}

// CorePersona is the voice that holds across platforms.
type CorePersona struct {
	Name            string   `json:"name"`
	Archetype       string   `json:"archetype"`
	Summary         string   `json:"summary"`
	Tone            []string `json:"tone"`
	Voice           string   `json:"voice"`
	Audience        string   `json:"audience"`
	VocabularyLevel string   `json:"vocabularyLevel"`
	SentenceStyle   string   `json:"sentenceStyle"`
	KeyTopics       []string `json:"keyTopics"`
	Do              []string `json:"do"`
	Dont            []string `json:"dont"`
	SampleOpening   string   `json:"sampleOpening"`
}

// PlatformPersona adapts the core persona to one platform.
type PlatformPersona struct {
	Platform        Platform `json:"platform"`
	Tone            string   `json:"tone"`
	Format          string   `json:"format"`
	MaxLength       int      `json:"maxLength"` // characters; 0 means no limit
	IdealLength     string   `json:"idealLength"`
	Hashtags        int      `json:"hashtags"` // suggested count
	EmojiUse        string   `json:"emojiUse"` // NONE, SPARING, FREE
	PostingGuidance []string `json:"postingGuidance"`
}

// PersonaQuality scores a persona 0–100 on how well the inputs support it.
type PersonaQuality struct {
	Completeness float64  `json:"completeness"`
	Specificity  float64  `json:"specificity"`
	Consistency  float64  `json:"consistency"`
	Overall      float64  `json:"overall"`
	Notes        []string `json:"notes"`
}

// PersonaReadiness says whether there is enough to generate a persona.
type PersonaReadiness struct {
	Ready bool
	// Missing names what is still needed, e.g. "website analysis or business information".
	Missing []string
	// Sources names what generation would use.
	Sources []string
}

// PersonalizationContext is what chat and playbooks use of onboarding. Anything the
// user never entered has a default, listed in Defaulted.
type PersonalizationContext struct {
	BusinessName   string
	Industry       string
	TargetAudience string
	WritingTone    WritingTone
	Language       string
	ResearchDepth  ResearchDepth
	ContentTypes   []ContentType
	AutoResearch   bool
	FactualContent bool
	KeyTopics      []string
	Platforms      []Platform
	PersonaID      *string // nil when there is no active persona
	PersonaSummary string
	Voice          string
	// Defaulted lists the fields that hold a default rather than the user's data.
	Defaulted []string
}

package models

// Passage is one chunk of a user's document that a knowledge search found: what
// searchDocuments answers and what grounded chat shows the model.
type Passage struct {
	// DocumentID and DocumentTitle name the document the chunk belongs to.
	DocumentID    string
	DocumentTitle string
	// ChunkID names the chunk; Position is its place in the document, from 0.
	ChunkID  string
	Position int
	// Start and End are the chunk's offsets, in bytes, in the document's extracted
	// text; Text is that text.
	Start int
	End   int
	Text  string
	// Score is the passage's fused score (higher is better); its scale is the
	// search's own, comparable only within one answer.
	Score float64
	// Embedder labels the embedder whose vectors ranked the passage, e.g.
	// "offline" for the built-in deterministic one.
	Embedder string
}

// Citation points at text of a passage the model saw when it answered: the
// document, the chunk and the quoted span (Quote is Text[Start:End] of the chunk,
// offsets in bytes within the chunk's text).
type Citation struct {
	DocumentID    string
	DocumentTitle string
	ChunkID       string
	Quote         string
	Start         int
	End           int
}

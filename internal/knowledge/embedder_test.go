package knowledge

import "github.com/inkgraph/inkgraph/internal/knowledge/embed"

// testEmbedder is the embedder the tests ingest with: the built-in offline one.
func testEmbedder() Embedder { return embed.Offline(256) }

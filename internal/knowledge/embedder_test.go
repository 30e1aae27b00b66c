package knowledge

// testEmbedder is the embedder the tests ingest with.
func testEmbedder() Embedder { return bagEmbedder{dims: 256} }

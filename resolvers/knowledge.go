package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/models"
)

// Knowledge is what the resolvers need of the knowledge area.
type Knowledge interface {
	AddDocument(ctx context.Context, userID string, in models.AddDocumentInput) (*models.DocumentUpload, error)
	CompleteDocumentUpload(ctx context.Context, userID, id string) (*models.Document, error)
	AddDocumentFromURL(ctx context.Context, userID string, in models.AddDocumentFromURLInput) (*models.Document, error)
	Documents(ctx context.Context, userID string, first int, after, tag string) (*models.DocumentConnection, error)
	Document(ctx context.Context, userID, id string) (*models.Document, error)
	RenameDocument(ctx context.Context, userID, id, title string) (*models.Document, error)
	SetDocumentTags(ctx context.Context, userID, id string, tags []string) (*models.Document, error)
	ReingestDocument(ctx context.Context, userID, id string) (*models.Document, error)
	DeleteDocument(ctx context.Context, userID, id string) (*models.Document, error)
	Search(ctx context.Context, userID, query string, first int, documentIDs []string, tag string) ([]*models.Passage, error)
	Ingestion(ctx context.Context, userID, id string) (<-chan *models.DocumentIngestion, error)
}

func (r queryResolver) Documents(ctx context.Context, first *int, after, tag *string) (*models.DocumentConnection, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, cursor, err := page(first, after)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.Documents(ctx, caller.Space(), n, cursor, deref(tag))
}

func (r queryResolver) Document(ctx context.Context, id string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.Document(ctx, caller.Space(), id)
}

func (r queryResolver) SearchDocuments(ctx context.Context, query string, first *int, documentIDs []string, tag *string) ([]*models.Passage, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n := 0
	if first != nil {
		if n = *first; n == 0 {
			return nil, models.InvalidInput("first", "first must be between 1 and 50")
		}
	}
	return r.Knowledge.Search(ctx, caller.Space(), query, n, documentIDs, deref(tag))
}

func (r mutationResolver) AddDocument(ctx context.Context, input models.AddDocumentInput) (*models.DocumentUpload, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.AddDocument(ctx, caller.Space(), input)
}

func (r mutationResolver) CompleteDocumentUpload(ctx context.Context, id string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.CompleteDocumentUpload(ctx, caller.Space(), id)
}

func (r mutationResolver) AddDocumentFromURL(ctx context.Context, input models.AddDocumentFromURLInput) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.AddDocumentFromURL(ctx, caller.Space(), input)
}

func (r mutationResolver) RenameDocument(ctx context.Context, id, title string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.RenameDocument(ctx, caller.Space(), id, title)
}

func (r mutationResolver) SetDocumentTags(ctx context.Context, id string, tags []string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.SetDocumentTags(ctx, caller.Space(), id, tags)
}

func (r mutationResolver) ReingestDocument(ctx context.Context, id string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.ReingestDocument(ctx, caller.Space(), id)
}

func (r mutationResolver) DeleteDocument(ctx context.Context, id string) (*models.Document, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.DeleteDocument(ctx, caller.Space(), id)
}

func (r subscriptionResolver) DocumentIngestion(ctx context.Context, id string) (<-chan *models.DocumentIngestion, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Knowledge.Ingestion(ctx, caller.Space(), id)
}

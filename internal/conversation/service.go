// Package conversation owns the chat settings a user chooses and, for a user who
// keeps history, their stored conversations: listed, read, renamed, deleted, and
// appended to by the chat area after each completed run. A conversation's title and
// each message's content are sealed with the key ring, bound to the user and the
// conversation (a row copied to another user or conversation does not open); turning
// history off deletes what was kept.
package conversation

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/models"
)

// Limits of what is kept.
const (
	// MaxTitleRunes bounds a conversation's title.
	MaxTitleRunes = 200
	// MaxConversations is how many conversations a user may keep; a new one beyond
	// it is refused QUOTA_EXCEEDED (field conversationId) until one is deleted.
	MaxConversations = 1000
	// MaxMessages is how many messages (user's and assistant's, 500 exchanges) a
	// conversation may hold; a run naming a full conversation is refused
	// QUOTA_EXCEEDED (field conversationId): start a new one.
	MaxMessages = 1000
	// autoTitleRunes bounds the title a new conversation takes from its first message.
	autoTitleRunes = 80

	defaultConversationPage = 20
	defaultMessagePage      = 50
	maxPage                 = 100
)

// Deps are what the service is built from.
type Deps struct {
	DB   bun.IDB
	Ring *keyring.Ring
	// ReloadRing, when set, reads the key ring again: before sealing (so a running
	// server seals with the version `keys rotate` added) and once when a value names
	// a version this process does not know yet.
	ReloadRing func() (*keyring.Ring, error)
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service is the conversation area.
type Service struct {
	d    Deps
	ring atomic.Pointer[keyring.Ring]
}

// NewService returns the conversation service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil || d.Ring == nil {
		return nil, errors.New("conversation: DB and Ring are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{d: d}
	s.ring.Store(d.Ring)
	return s, nil
}

// now is the service's clock in UTC, to the microsecond (what PostgreSQL keeps), so
// that a cursor made from a value read back finds the row it came from.
func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

// --- settings ---

// ChatSettings returns the user's chat settings; a user who never saved any has the
// zero value (no history kept, no approval asked).
func (s *Service) ChatSettings(ctx context.Context, userID string) (*models.ChatSettings, error) {
	st, _, err := findSettings(ctx, s.d.DB, userID)
	return st, err
}

// UpdateSettings changes the fields of in that are set. Turning keepHistory off
// deletes every conversation the user kept, in the same transaction.
func (s *Service) UpdateSettings(ctx context.Context, userID string, in models.UpdateChatSettingsInput) (*models.ChatSettings, error) {
	var out *models.ChatSettings
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		st, _, err := findSettings(ctx, tx, userID)
		if err != nil {
			return err
		}
		if in.KeepHistory != nil {
			st.KeepHistory = *in.KeepHistory
		}
		if in.RequireToolApproval != nil {
			st.RequireToolApproval = *in.RequireToolApproval
		}
		st.UpdatedAt = s.now()
		if err := upsertSettings(ctx, tx, st); err != nil {
			return err
		}
		if !st.KeepHistory {
			if _, err := deleteConversationsOf(ctx, tx, userID); err != nil {
				return err
			}
		}
		out = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- reading ---

// Conversations returns a page of the user's conversations, most recently updated
// first: first conversations (1 to 100, 20 when 0) after the cursor after ("" for
// the first page). A conversation updated while a client pages moves to the front.
func (s *Service) Conversations(ctx context.Context, userID string, first int, after string) (*models.ConversationConnection, error) {
	first, err := pageSize(first, defaultConversationPage)
	if err != nil {
		return nil, err
	}
	var cur *listCursor
	if after != "" {
		c, err := parseListCursor(after)
		if err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this list: pass an edge's cursor or endCursor")
		}
		cur = &c
	}
	rows, err := findConversations(ctx, s.d.DB, userID, cur, first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.ConversationConnection{Edges: []*models.ConversationEdge{}, PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	for _, c := range rows {
		if err := s.openTitle(c); err != nil {
			return nil, err
		}
		conn.Edges = append(conn.Edges, &models.ConversationEdge{Cursor: formatListCursor(listCursor{UpdatedAt: c.UpdatedAt, ID: c.ID}), Node: c})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

// Conversation returns one of the user's conversations; NOT_FOUND (field id) for an
// unknown ID or anyone else's.
func (s *Service) Conversation(ctx context.Context, userID, id string) (*models.Conversation, error) {
	c, err := s.find(ctx, s.d.DB, userID, id, "id")
	if err != nil {
		return nil, err
	}
	if err := s.openTitle(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Messages returns a page of the user's conversation's messages, oldest first: first
// messages (1 to 100, 50 when 0) after the cursor after ("" for the first). Another
// user's conversation has no messages for the caller.
func (s *Service) Messages(ctx context.Context, userID, conversationID string, first int, after string) (*models.ConversationMessageConnection, error) {
	first, err := pageSize(first, defaultMessagePage)
	if err != nil {
		return nil, err
	}
	pos := 0
	if after != "" {
		if pos, err = parseMessageCursor(after); err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this list: pass an edge's cursor or endCursor")
		}
	}
	rows, err := findMessages(ctx, s.d.DB, userID, conversationID, pos, first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.ConversationMessageConnection{Edges: []*models.ConversationMessageEdge{}, PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	for _, m := range rows {
		if err := s.openContent(m); err != nil {
			return nil, err
		}
		conn.Edges = append(conn.Edges, &models.ConversationMessageEdge{Cursor: formatMessageCursor(m.Position), Node: m})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

// --- changing ---

// Rename gives the user's conversation a new title (trimmed, 1 to 200 characters).
func (s *Service) Rename(ctx context.Context, userID, id, title string) (*models.Conversation, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return nil, models.InvalidInput("title", "the title is empty")
	case !utf8.ValidString(title):
		return nil, models.InvalidInput("title", "the title is not valid UTF-8")
	case utf8.RuneCountInString(title) > MaxTitleRunes:
		return nil, models.InvalidInput("title", "the title is longer than %d characters", MaxTitleRunes)
	}
	ring := s.sealingRing(ctx)
	var out *models.Conversation
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.find(ctx, tx, userID, id, "id")
		if err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := sealTitle(ring, c, title); err != nil {
			return err
		}
		if err := updateTitle(ctx, tx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes the user's conversation and its messages, answering it as it was.
func (s *Service) Delete(ctx context.Context, userID, id string) (*models.Conversation, error) {
	var out *models.Conversation
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.find(ctx, tx, userID, id, "id")
		if err != nil {
			return err
		}
		if err := s.openTitle(c); err != nil {
			return err
		}
		deleted, err := deleteConversation(ctx, tx, userID, c.ID)
		if err != nil {
			return err
		}
		if !deleted {
			return &models.Error{Code: models.CodeNotFound, Field: "id", Message: "conversation not found"}
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- what chat asks ---

// Turns returns the last n messages of the user's conversation, oldest first, for a
// run that continues it. NOT_FOUND (field conversationId) for an unknown ID or
// anyone else's; QUOTA_EXCEEDED (field conversationId) when it holds MaxMessages
// messages already, so that a run whose answer could not be kept does not start.
func (s *Service) Turns(ctx context.Context, userID, conversationID string, n int) ([]*models.ConversationMessage, error) {
	c, err := s.find(ctx, s.d.DB, userID, conversationID, "conversationId")
	if err != nil {
		return nil, err
	}
	if c.MessageCount+2 > MaxMessages {
		return nil, fullConversation(c.MessageCount)
	}
	rows, err := findLastMessages(ctx, s.d.DB, userID, c.ID, n)
	if err != nil {
		return nil, err
	}
	for _, m := range rows {
		if err := s.openContent(m); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// CanStart refuses QUOTA_EXCEEDED (field conversationId) when the user keeps
// MaxConversations conversations already, before a run that would start another.
func (s *Service) CanStart(ctx context.Context, userID string) error {
	n, err := countConversations(ctx, s.d.DB, userID)
	if err != nil {
		return err
	}
	if n >= MaxConversations {
		return tooManyConversations(n)
	}
	return nil
}

// Append keeps a completed run: the user's message and the answer become the next
// two messages of the user's conversation conversationID, or of a new conversation
// titled from the message when conversationID is "". It answers the conversation's
// ID, or "" when the user does not keep history (any more): then nothing is stored.
func (s *Service) Append(ctx context.Context, userID, conversationID, message, answer string) (string, error) {
	ring := s.sealingRing(ctx)
	var id string
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		// One writer per user at a time: the count of conversations and the
		// positions of messages are read and then written.
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		st, _, err := findSettings(ctx, tx, userID)
		if err != nil || !st.KeepHistory {
			return err
		}
		now := s.now()
		var c *models.Conversation
		if conversationID == "" {
			if n, err := countConversations(ctx, tx, userID); err != nil {
				return err
			} else if n >= MaxConversations {
				return tooManyConversations(n)
			}
			u, err := uuid.NewV7()
			if err != nil {
				return models.Internal(err, "conversation ID")
			}
			c = &models.Conversation{ID: u.String(), UserID: userID, CreatedAt: now}
			if err := sealTitle(ring, c, autoTitle(message)); err != nil {
				return err
			}
			c.UpdatedAt = now
			if err := insertConversation(ctx, tx, c); err != nil {
				return err
			}
		} else {
			if c, err = s.find(ctx, tx, userID, conversationID, "conversationId"); err != nil {
				return err
			}
			if c.MessageCount+2 > MaxMessages {
				return fullConversation(c.MessageCount)
			}
		}
		msgs := make([]*models.ConversationMessage, 0, 2)
		for _, m := range []struct{ role, text string }{{models.ConversationRoleUser, message}, {models.ConversationRoleAssistant, answer}} {
			c.MessageCount++
			msg := &models.ConversationMessage{ConversationID: c.ID, Position: c.MessageCount, UserID: userID, Role: m.role, CreatedAt: now}
			if err := sealContent(ring, msg, m.text); err != nil {
				return err
			}
			msgs = append(msgs, msg)
		}
		if err := insertMessages(ctx, tx, msgs); err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := updateCount(ctx, tx, c); err != nil {
			return err
		}
		id = c.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// --- sealing ---

// Additional data binds a sealed value to what it belongs to: its kind, the user,
// the conversation, and for a message its position and role. A value copied to
// another row does not open.
func titleAAD(c *models.Conversation) []string {
	return []string{"conversation-title", c.UserID, c.ID}
}

func contentAAD(m *models.ConversationMessage) []string {
	return []string{"conversation-message", m.UserID, m.ConversationID, strconv.Itoa(m.Position), m.Role}
}

func sealTitle(ring *keyring.Ring, c *models.Conversation, title string) error {
	sealed, err := ring.Seal([]byte(title), titleAAD(c)...)
	if err != nil {
		return models.Internal(err, "seal conversation title")
	}
	c.SealedTitle, c.KeyVersion, c.Title = sealed, ring.Current(), title
	return nil
}

func sealContent(ring *keyring.Ring, m *models.ConversationMessage, content string) error {
	sealed, err := ring.Seal([]byte(content), contentAAD(m)...)
	if err != nil {
		return models.Internal(err, "seal conversation message")
	}
	m.SealedContent, m.KeyVersion, m.Content = sealed, ring.Current(), content
	return nil
}

func (s *Service) openTitle(c *models.Conversation) error {
	plain, err := s.open(c.SealedTitle, titleAAD(c))
	if err != nil {
		return models.Internal(err, "open the title of conversation %s", c.ID)
	}
	c.Title = string(plain)
	return nil
}

func (s *Service) openContent(m *models.ConversationMessage) error {
	plain, err := s.open(m.SealedContent, contentAAD(m))
	if err != nil {
		return models.Internal(err, "open message %d of conversation %s", m.Position, m.ConversationID)
	}
	m.Content = string(plain)
	return nil
}

// open decrypts a sealed value. A version this process has not seen yet means a
// rotation added it after the ring was loaded: the ring is reloaded once.
func (s *Service) open(sealed []byte, aad []string) ([]byte, error) {
	plain, err := s.ring.Load().Open(sealed, aad...)
	if errors.Is(err, keyring.ErrUnknownVersion) && s.d.ReloadRing != nil {
		ring, rerr := s.reloadRing()
		if rerr != nil {
			return nil, rerr
		}
		plain, err = ring.Open(sealed, aad...)
	}
	return plain, err
}

// sealingRing is the ring to seal new values with, read again first when it can be,
// so a running server seals with the version `keys rotate` added as soon as it has.
func (s *Service) sealingRing(ctx context.Context) *keyring.Ring {
	if s.d.ReloadRing != nil {
		if _, err := s.reloadRing(); err != nil {
			s.d.Logger.WarnContext(ctx, "reload the key ring; sealing with the one loaded", "error", err)
		}
	}
	return s.ring.Load()
}

func (s *Service) reloadRing() (*keyring.Ring, error) {
	ring, err := s.d.ReloadRing()
	if err == nil {
		s.ring.Store(ring)
	}
	return ring, err
}

// --- helpers ---

// find returns the user's conversation id; NOT_FOUND naming field otherwise,
// including for an ID that is no conversation ID at all.
func (s *Service) find(ctx context.Context, db bun.IDB, userID, id, field string) (*models.Conversation, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return nil, &models.Error{Code: models.CodeNotFound, Field: field, Message: "conversation not found"}
	}
	c, err := findConversation(ctx, db, userID, u.String())
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && e.Code == models.CodeNotFound {
			named := *e
			named.Field = field
			return nil, &named
		}
		return nil, err
	}
	return c, nil
}

func tooManyConversations(n int) error {
	return &models.Error{Code: models.CodeQuotaExceeded, Field: "conversationId",
		Message: fmt.Sprintf("you keep %d conversations, the most allowed: delete one, or continue one by its conversationId", n)}
}

func fullConversation(n int) error {
	return &models.Error{Code: models.CodeQuotaExceeded, Field: "conversationId",
		Message: fmt.Sprintf("the conversation holds %d messages, the most allowed (%d): start a new one", n, MaxMessages)}
}

// autoTitle is a new conversation's title: its first message on one line, cut at
// autoTitleRunes characters.
func autoTitle(message string) string {
	title := strings.Join(strings.FieldsFunc(message, unicode.IsSpace), " ")
	if utf8.RuneCountInString(title) <= autoTitleRunes {
		return title
	}
	r := []rune(title)
	return strings.TrimSpace(string(r[:autoTitleRunes-1])) + "…"
}

func pageSize(first, def int) (int, error) {
	switch {
	case first == 0:
		return def, nil
	case first < 1 || first > maxPage:
		return 0, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxPage, first)
	}
	return first, nil
}

func formatListCursor(c listCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.UpdatedAt.UnixMicro(), 10) + ":" + c.ID))
}

func parseListCursor(s string) (listCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listCursor{}, err
	}
	us, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return listCursor{}, fmt.Errorf("cursor %q has no id", s)
	}
	if _, err := uuid.Parse(id); err != nil {
		return listCursor{}, err
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return listCursor{}, err
	}
	return listCursor{UpdatedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

func formatMessageCursor(position int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("m:" + strconv.Itoa(position)))
}

func parseMessageCursor(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	p, ok := strings.CutPrefix(string(b), "m:")
	if !ok {
		return 0, fmt.Errorf("cursor %q is not a message cursor", s)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("cursor %q is not a message cursor", s)
	}
	return n, nil
}

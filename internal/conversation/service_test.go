package conversation

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

var t0 = time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)

func ring(t *testing.T, versions ...int) *keyring.Ring {
	t.Helper()
	keys := map[int][]byte{}
	for _, v := range versions {
		keys[v] = bytes.Repeat([]byte{byte(v)}, keyring.KeySize)
	}
	r, err := keyring.New(keys)
	require.NoError(t, err)
	return r
}

func newService(t *testing.T, db bun.IDB, clock *testkit.Clock, r *keyring.Ring) *Service {
	t.Helper()
	s, err := NewService(Deps{DB: db, Ring: r, Now: clock.Now})
	require.NoError(t, err)
	return s
}

// keeping returns a user who keeps history.
func keeping(t *testing.T, s *Service, db bun.IDB) string {
	t.Helper()
	user := testkit.NewUser(t, db, models.TierFree, t0)
	on := true
	st, err := s.UpdateSettings(context.Background(), user, models.UpdateChatSettingsInput{KeepHistory: &on})
	require.NoError(t, err)
	require.True(t, st.KeepHistory)
	return user
}

func TestSettings(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newService(t, db, testkit.NewClock(t0), ring(t, 1))
		user := testkit.NewUser(t, db, models.TierFree, t0)

		st, err := s.ChatSettings(ctx, user)
		require.NoError(t, err)
		require.Equal(t, &models.ChatSettings{UserID: user}, st, "no row: the zero value")

		on, off := true, false
		st, err = s.UpdateSettings(ctx, user, models.UpdateChatSettingsInput{RequireToolApproval: &on})
		require.NoError(t, err)
		require.True(t, st.RequireToolApproval)
		require.False(t, st.KeepHistory)
		st, err = s.UpdateSettings(ctx, user, models.UpdateChatSettingsInput{KeepHistory: &on})
		require.NoError(t, err)
		require.True(t, st.RequireToolApproval, "a field left out keeps its value")
		require.True(t, st.KeepHistory)
		read, err := s.ChatSettings(ctx, user)
		require.NoError(t, err)
		require.Equal(t, st, read)

		_, err = s.Append(ctx, user, "", "hello", "hi")
		require.NoError(t, err)
		require.Equal(t, 1, count(t, db, "conversations"))
		require.Equal(t, 2, count(t, db, "conversation_messages"))

		st, err = s.UpdateSettings(ctx, user, models.UpdateChatSettingsInput{KeepHistory: &off})
		require.NoError(t, err)
		require.False(t, st.KeepHistory)
		require.True(t, st.RequireToolApproval)
		require.Zero(t, count(t, db, "conversations"), "turning history off deletes what was kept")
		require.Zero(t, count(t, db, "conversation_messages"))

		id, err := s.Append(ctx, user, "", "hello", "hi")
		require.NoError(t, err)
		require.Empty(t, id, "history off: nothing stored")
		require.Zero(t, count(t, db, "conversations"))
	})
}

func TestConversations(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(t0)
		s := newService(t, db, clock, ring(t, 1))
		user := keeping(t, s, db)

		long := strings.Repeat("word ", 40)
		first, err := s.Append(ctx, user, "", "Plan   my\nweek", "Here is a plan.")
		require.NoError(t, err)
		clock.Add(time.Second)
		second, err := s.Append(ctx, user, "", long, "ok")
		require.NoError(t, err)
		clock.Add(time.Second)
		_, err = s.Append(ctx, user, first, "And Friday?", "Friday is free.")
		require.NoError(t, err)

		c, err := s.Conversation(ctx, user, first)
		require.NoError(t, err)
		require.Equal(t, "Plan my week", c.Title, "titled from the first message, on one line")
		require.Equal(t, 4, c.MessageCount)
		require.Equal(t, t0, c.CreatedAt)
		require.Equal(t, t0.Add(2*time.Second), c.UpdatedAt)
		c2, err := s.Conversation(ctx, user, second)
		require.NoError(t, err)
		require.Equal(t, 80, len([]rune(c2.Title)))
		require.True(t, strings.HasSuffix(c2.Title, "…"))

		// Most recently updated first, a page at a time.
		page, err := s.Conversations(ctx, user, 1, "")
		require.NoError(t, err)
		require.Len(t, page.Edges, 1)
		require.Equal(t, first, page.Edges[0].Node.ID)
		require.True(t, page.PageInfo.HasNextPage)
		page, err = s.Conversations(ctx, user, 1, *page.PageInfo.EndCursor)
		require.NoError(t, err)
		require.Len(t, page.Edges, 1)
		require.Equal(t, second, page.Edges[0].Node.ID)
		require.False(t, page.PageInfo.HasNextPage)
		_, err = s.Conversations(ctx, user, 101, "")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "first")
		_, err = s.Conversations(ctx, user, 0, "nonsense")
		testkit.RequireCode(t, err, models.CodeBadUserInput, "after")

		msgs, err := s.Messages(ctx, user, first, 3, "")
		require.NoError(t, err)
		require.True(t, msgs.PageInfo.HasNextPage)
		var got []string
		for _, e := range msgs.Edges {
			got = append(got, fmt.Sprintf("%d %s %s", e.Node.Position, e.Node.Role, e.Node.Content))
		}
		require.Equal(t, []string{"1 user Plan   my\nweek", "2 assistant Here is a plan.", "3 user And Friday?"}, got,
			"the message and the answer, as they were")
		msgs, err = s.Messages(ctx, user, first, 0, *msgs.PageInfo.EndCursor)
		require.NoError(t, err)
		require.Len(t, msgs.Edges, 1)
		require.Equal(t, "Friday is free.", msgs.Edges[0].Node.Content)
		require.False(t, msgs.PageInfo.HasNextPage)

		turns, err := s.Turns(ctx, user, first, 2)
		require.NoError(t, err)
		require.Len(t, turns, 2)
		require.Equal(t, "And Friday?", turns[0].Content, "the last n, oldest first")
		require.Equal(t, "Friday is free.", turns[1].Content)

		renamed, err := s.Rename(ctx, user, first, "  Weekly plan ")
		require.NoError(t, err)
		require.Equal(t, "Weekly plan", renamed.Title)
		c, err = s.Conversation(ctx, user, first)
		require.NoError(t, err)
		require.Equal(t, "Weekly plan", c.Title)
		for title, why := range map[string]string{"": "empty", "   ": "blank", strings.Repeat("x", MaxTitleRunes+1): "too long", "\xff": "not UTF-8"} {
			_, err := s.Rename(ctx, user, first, title)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "title")
			_ = why
		}
		_, err = s.Rename(ctx, user, first, strings.Repeat("é", MaxTitleRunes))
		require.NoError(t, err, "200 characters, however many bytes")

		deleted, err := s.Delete(ctx, user, first)
		require.NoError(t, err)
		require.Equal(t, first, deleted.ID)
		_, err = s.Conversation(ctx, user, first)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		require.Equal(t, 2, count(t, db, "conversation_messages"), "its messages went with it")
	})
}

// TestIsolation: another user's conversation is NOT_FOUND to every operation, and
// an ID that is no conversation's is NOT_FOUND too.
func TestIsolation(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newService(t, db, testkit.NewClock(t0), ring(t, 1))
		owner, other := keeping(t, s, db), keeping(t, s, db)
		id, err := s.Append(ctx, owner, "", "mine", "yours")
		require.NoError(t, err)

		for _, target := range []string{id, uuid.NewString(), "not-an-id"} {
			_, err = s.Conversation(ctx, other, target)
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
			_, err = s.Rename(ctx, other, target, "taken")
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
			_, err = s.Delete(ctx, other, target)
			testkit.RequireCode(t, err, models.CodeNotFound, "id")
			_, err = s.Turns(ctx, other, target, 50)
			testkit.RequireCode(t, err, models.CodeNotFound, "conversationId")
			_, err = s.Append(ctx, other, target, "into yours", "no")
			testkit.RequireCode(t, err, models.CodeNotFound, "conversationId")
		}
		msgs, err := s.Messages(ctx, other, id, 0, "")
		require.NoError(t, err)
		require.Empty(t, msgs.Edges)
		list, err := s.Conversations(ctx, other, 0, "")
		require.NoError(t, err)
		require.Empty(t, list.Edges)

		c, err := s.Conversation(ctx, owner, id)
		require.NoError(t, err)
		require.Equal(t, "mine", c.Title, "as it was")
		require.Equal(t, 2, c.MessageCount)
	})
}

// TestSealedAtRest: the stored title and content are not the text, and a sealed
// value copied to another user's row does not open.
func TestSealedAtRest(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newService(t, db, testkit.NewClock(t0), ring(t, 1))
		owner, other := keeping(t, s, db), keeping(t, s, db)
		const secret = "my secret launch plan"
		id, err := s.Append(ctx, owner, "", secret, "the answer about "+secret)
		require.NoError(t, err)

		var title []byte
		require.NoError(t, db.NewSelect().Table("conversations").Column("title").Where("id = ?", id).Scan(ctx, &title))
		require.NotEmpty(t, title)
		require.False(t, bytes.Contains(title, []byte("secret")), "the raw title column is ciphertext")
		var contents [][]byte
		require.NoError(t, db.NewSelect().Table("conversation_messages").Column("content").Where("conversation_id = ?", id).Scan(ctx, &contents))
		require.Len(t, contents, 2)
		for _, c := range contents {
			require.False(t, bytes.Contains(c, []byte("secret")), "the raw content column is ciphertext")
		}

		// The other user's own conversation, its title and first message overwritten
		// with the owner's sealed values.
		theirs, err := s.Append(ctx, other, "", "their own", "answer")
		require.NoError(t, err)
		_, err = db.NewUpdate().Table("conversations").Set("title = ?", title).Where("id = ?", theirs).Exec(ctx)
		require.NoError(t, err)
		_, err = s.Conversation(ctx, other, theirs)
		testkit.RequireCode(t, err, models.CodeInternal)
		_, err = db.NewUpdate().Table("conversation_messages").Set("content = ?", contents[0]).
			Where("conversation_id = ? AND position = 1", theirs).Exec(ctx)
		require.NoError(t, err)
		_, err = s.Messages(ctx, other, theirs, 0, "")
		testkit.RequireCode(t, err, models.CodeInternal)

		// The owner's row moved to the other user whole.
		_, err = db.NewUpdate().Table("conversations").Set("user_id = ?", other).Where("id = ?", id).Exec(ctx)
		require.NoError(t, err)
		_, err = s.Conversation(ctx, other, id)
		testkit.RequireCode(t, err, models.CodeInternal)
	})
}

// TestAccountDeletion: deleting the user deletes their settings, conversations and
// messages, and nobody else's.
func TestAccountDeletion(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newService(t, db, testkit.NewClock(t0), ring(t, 1))
		gone, kept := keeping(t, s, db), keeping(t, s, db)
		for _, u := range []string{gone, kept} {
			id, err := s.Append(ctx, u, "", "one", "two")
			require.NoError(t, err)
			_, err = s.Append(ctx, u, id, "three", "four")
			require.NoError(t, err)
		}
		_, err := db.NewDelete().Table("users").Where("id = ?", gone).Exec(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, count(t, db, "chat_settings"))
		require.Equal(t, 1, count(t, db, "conversations"))
		require.Equal(t, 4, count(t, db, "conversation_messages"))
		n, err := db.NewSelect().Table("conversation_messages").Where("user_id = ?", kept).Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 4, n)
	})
}

// TestLimits: a full conversation and a user with the most conversations are
// refused QUOTA_EXCEEDED before a run, and at Append, leaving what is stored.
func TestLimits(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newService(t, db, testkit.NewClock(t0), ring(t, 1))
		user := keeping(t, s, db)
		id, err := s.Append(ctx, user, "", "one", "two")
		require.NoError(t, err)
		_, err = db.NewUpdate().Table("conversations").Set("message_count = ?", MaxMessages-1).Where("id = ?", id).Exec(ctx)
		require.NoError(t, err)
		_, err = s.Turns(ctx, user, id, 50)
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "conversationId")
		_, err = s.Append(ctx, user, id, "three", "four")
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "conversationId")
		require.Equal(t, 2, count(t, db, "conversation_messages"))

		require.NoError(t, s.CanStart(ctx, user))
		rows := make([]*models.Conversation, 0, MaxConversations-1)
		for range MaxConversations - 1 {
			rows = append(rows, &models.Conversation{ID: uuid.NewString(), UserID: user, SealedTitle: []byte{0}, KeyVersion: 1, CreatedAt: t0, UpdatedAt: t0})
		}
		_, err = db.NewInsert().Model(&rows).Exec(ctx)
		require.NoError(t, err)
		testkit.RequireCode(t, s.CanStart(ctx, user), models.CodeQuotaExceeded, "conversationId")
		_, err = s.Append(ctx, user, "", "another", "no")
		testkit.RequireCode(t, err, models.CodeQuotaExceeded, "conversationId")
		require.Equal(t, MaxConversations, count(t, db, "conversations"))
	})
}

// TestRotateKeys: rotation re-seals every title and message with the current
// version, after which a ring without the old version opens them.
func TestRotateKeys(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(t0)
		old := newService(t, db, clock, ring(t, 1))
		user := keeping(t, old, db)
		id, err := old.Append(ctx, user, "", "before rotation", "sealed with 1")
		require.NoError(t, err)
		_, err = old.Append(ctx, user, id, "again", "still 1")
		require.NoError(t, err)

		rotated := newService(t, db, clock, ring(t, 1, 2))
		res, err := rotated.RotateKeys(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, res.Current)
		require.Equal(t, 1, res.Titles)
		require.Equal(t, 4, res.Messages)
		require.Zero(t, res.Failed)
		require.Equal(t, map[int]int{2: 5}, res.ByVersion)
		again, err := rotated.RotateKeys(ctx)
		require.NoError(t, err)
		require.Zero(t, again.Titles+again.Messages, "nothing left to re-seal")

		only2 := newService(t, db, clock, ring(t, 2))
		c, err := only2.Conversation(ctx, user, id)
		require.NoError(t, err)
		require.Equal(t, "before rotation", c.Title)
		msgs, err := only2.Messages(ctx, user, id, 0, "")
		require.NoError(t, err)
		require.Len(t, msgs.Edges, 4)
		require.Equal(t, "still 1", msgs.Edges[3].Node.Content)
	})
}

func count(t *testing.T, db bun.IDB, table string) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

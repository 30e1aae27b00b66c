package auth

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/inkgraph/inkgraph/models"
)

// revokedTopic carries every ended session to every instance's revocation set.
const revokedTopic = "sessions.revoked"

// revokedEvent is what revokedTopic carries.
type revokedEvent struct {
	UserID    string    `json:"userId"`
	SessionID string    `json:"sessionId"`
	RevokedAt time.Time `json:"revokedAt"`
}

// DefaultRevocationResync is how often, by default, every instance reads the revoked
// sessions again: one indexed query per interval bounds how long a revocation whose
// event was dropped keeps working on an instance.
const DefaultRevocationResync = 30 * time.Second

// clockSkew is how far instances' clocks may disagree: a revocation is remembered
// this much longer than an access token lives.
const clockSkew = time.Minute

// Revocations is an instance's set of ended sessions whose access tokens may not have
// expired yet, so that a revoked session stops at once without a database read per
// request. It is bounded: a session revoked longer ago than an access token lives (plus
// clockSkew) is forgotten, since every token naming it has expired by then (a sweep
// every quarter of that time drops them). It is fed
// by FollowRevocations (every instance's revocations through the events bus, reloaded
// from the sessions table when the bus listens again after a gap) and by this
// instance's own revocations, which it learns before their event is published.
type Revocations struct {
	keep time.Duration
	now  func() time.Time

	mu       sync.RWMutex
	revoked  map[string]time.Time // session ID → when it was revoked
	watchers map[string]map[*func()]struct{}
	swept    time.Time
}

func newRevocations(accessTTL time.Duration, now func() time.Time) *Revocations {
	return &Revocations{
		keep: accessTTL + clockSkew, now: now,
		revoked: map[string]time.Time{}, watchers: map[string]map[*func()]struct{}{},
	}
}

// Revoked reports whether the session has ended (as far as this instance knows, which
// is within the events bus's delivery time of its end).
func (r *Revocations) Revoked(sessionID string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.revoked[sessionID]
	return ok
}

// Check refuses an access token whose session has ended, or an API key revoked since
// it was checked (a socket's): UNAUTHENTICATED.
func (r *Revocations) Check(caller models.Caller) error {
	if r.Revoked(CredentialID(caller)) {
		if caller.APIKeyID != "" {
			return models.Errorf(models.CodeUnauthenticated, "this API key was revoked")
		}
		return errSessionEnded()
	}
	return nil
}

// CredentialID is what the revocation set knows a caller's credential by: its
// session, or its API key. Sockets Watch it.
func CredentialID(caller models.Caller) string {
	if caller.APIKeyID != "" {
		return apiKeyRevocationID(caller.APIKeyID)
	}
	return caller.SessionID
}

func errSessionEnded() error {
	return models.Errorf(models.CodeUnauthenticated, "this session has ended: sign in again")
}

// Watch calls fn once, on a goroutine of its own, when the session is revoked (at once
// if it already is), unless stop was called first. Sockets and event streams use it
// to end when their session does.
func (r *Revocations) Watch(sessionID string, fn func()) (stop func()) {
	key := &fn
	r.mu.Lock()
	if _, ok := r.revoked[sessionID]; ok {
		r.mu.Unlock()
		go fn()
		return func() {}
	}
	ws := r.watchers[sessionID]
	if ws == nil {
		ws = map[*func()]struct{}{}
		r.watchers[sessionID] = ws
	}
	ws[key] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if ws := r.watchers[sessionID]; ws != nil {
			delete(ws, key)
			if len(ws) == 0 {
				delete(r.watchers, sessionID)
			}
		}
	}
}

// add records that a session ended at at, and tells its watchers.
func (r *Revocations) add(sessionID string, at time.Time) {
	now := r.now()
	if now.Sub(at) > r.keep {
		return // every token of it has expired
	}
	r.mu.Lock()
	if prev, ok := r.revoked[sessionID]; !ok || at.Before(prev) {
		r.revoked[sessionID] = at
	}
	ws := r.watchers[sessionID]
	delete(r.watchers, sessionID)
	// An occasional sweep keeps the set to the sessions revoked within keep.
	if now.Sub(r.swept) >= r.keep/4 {
		r.swept = now
		for id, t := range r.revoked {
			if now.Sub(t) > r.keep {
				delete(r.revoked, id)
			}
		}
	}
	r.mu.Unlock()
	for fn := range ws {
		go (*fn)()
	}
}

// len is the set's size, for tests of its bound.
func (r *Revocations) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.revoked)
}

// resumer is a bus that can lose events while it is disconnected and says when it
// listens again (events.Postgres); the in-process bus loses none.
type resumer interface {
	OnResume(fn func()) (stop func())
}

// FollowRevocations keeps the instance's revocation set current until ctx ends: it
// subscribes to every instance's revocations, then loads the sessions ended within an
// access token's lifetime from the database (so that none revoked before it listened
// is missed), and loads them again each time the bus listens again after a gap.
func (s *Service) FollowRevocations(ctx context.Context) error {
	ch, err := s.events.Subscribe(ctx, revokedTopic)
	if err != nil {
		return models.Internal(err, "subscribe to revocations")
	}
	if err := s.loadRevocations(ctx); err != nil {
		return err
	}
	if bus, ok := s.events.(resumer); ok {
		stop := bus.OnResume(func() { s.reloadRevocations(ctx) })
		context.AfterFunc(ctx, func() { stop() })
	}
	// A subscriber that falls behind loses events (the bus drops them rather than
	// block others), and a resume does not follow: read the set again now and then.
	resync := s.cfg.RevocationResync
	if resync <= 0 {
		resync = DefaultRevocationResync
	}
	go func() {
		tick := time.NewTicker(resync)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.loadRevocations(ctx); err != nil && ctx.Err() == nil {
					s.logger.WarnContext(ctx, "read revoked sessions again", "error", err)
				}
			}
		}
	}()
	go func() {
		for b := range ch {
			var ev revokedEvent
			if err := json.Unmarshal(b, &ev); err != nil || ev.SessionID == "" {
				s.logger.ErrorContext(ctx, "decode revocation event", "error", err)
				continue
			}
			s.revocations.add(ev.SessionID, ev.RevokedAt)
		}
	}()
	return nil
}

// loadRevocations adds the sessions and API keys revoked within the set's memory.
func (s *Service) loadRevocations(ctx context.Context) error {
	since := s.now().Add(-s.revocations.keep)
	sessions, err := findSessionsRevokedSince(ctx, s.db, since)
	if err != nil {
		return err
	}
	keys, err := findAPIKeysRevokedSince(ctx, s.db, since)
	if err != nil {
		return err
	}
	for _, ss := range sessions {
		s.revocations.add(ss.ID, *ss.RevokedAt)
	}
	for _, k := range keys {
		s.revocations.add(apiKeyRevocationID(k.ID), *k.RevokedAt)
	}
	return nil
}

// reloadRevocations loads the revocations again after the bus was away, retrying each
// second while the database does not answer (it usually does: the bus just reached it).
func (s *Service) reloadRevocations(ctx context.Context) {
	for {
		err := s.loadRevocations(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.logger.ErrorContext(ctx, "reload revoked sessions after the events bus reconnected: retrying", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// CheckSession refuses (UNAUTHENTICATED) a caller whose session does not exist, is not
// theirs, or has ended, reading the database: sockets call it once when they are
// opened, requests rely on the revocation set alone.
//
// An access token naming a session that never existed can only have been signed with
// the server's secret, and whoever holds that can sign a token for any user anyway: it
// is refused here, where a read per connection is cheap, as a second line, not as the
// defence (which is keeping the secret, and replacing it if it leaks).
func (s *Service) CheckSession(ctx context.Context, caller models.Caller) error {
	if err := s.revocations.Check(caller); err != nil {
		return err
	}
	if caller.APIKeyID != "" {
		return nil // an API key's record was read when it authenticated
	}
	session, err := findSession(ctx, s.db, caller.UserID, caller.SessionID)
	switch {
	case models.ErrorCode(err) == models.CodeNotFound:
		return models.Errorf(models.CodeUnauthenticated, "invalid access token: no such session")
	case err != nil:
		return err
	case session.RevokedAt != nil:
		return errSessionEnded()
	}
	return nil
}

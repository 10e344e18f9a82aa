package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"switchboard/chat"
)

// historyTTL is how long the cached history is served without asking the
// store again. Messages posted through this server update the cache at
// once; the TTL bounds how long a change made elsewhere (another process on
// the same database, a renamed author) takes to show.
const historyTTL = time.Second

// history caches the "chat history" a joining socket receives, encoded
// once: loading the last messages and encoding them for every connection
// was half of the chat's CPU while a wave of clients (re)connected.
//
// The event has two arguments: the last size messages, oldest first, and
// {"before": the message just before the oldest of them, or null when there
// is none}. A page that was away compares "before" with the last message it
// shows to know whether it missed more than the history holds.
type history struct {
	messages chat.MessageService
	size     int
	now      func() time.Time

	mu       sync.Mutex
	items    []chatMessage  // oldest first, up to size+1 (the first then is "before"); nil until loaded
	enc      historyPayload // items, encoded
	loadedAt time.Time
	version  uint64        // bumped by every add
	loading  chan struct{} // closed when the load in progress ends; nil if none
}

func newHistory(messages chat.MessageService, size int) *history {
	return &history{messages: messages, size: size, now: time.Now}
}

// historyPayload is the "chat history" event's two arguments, encoded.
type historyPayload struct {
	list json.RawMessage // [message, …]
	meta json.RawMessage // {"before": message or null}
}

// get returns the encoded history, from the cache while it is fresh, else
// from the store (one load at a time; the others wait for it).
func (h *history) get(ctx context.Context) (historyPayload, error) {
	for {
		h.mu.Lock()
		if h.enc.list != nil && h.now().Sub(h.loadedAt) < historyTTL {
			enc := h.enc
			h.mu.Unlock()
			return enc, nil
		}
		if wait := h.loading; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return historyPayload{}, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.loading = done
		version := h.version
		h.mu.Unlock()

		enc, items, err := h.load(ctx)

		h.mu.Lock()
		h.loading = nil
		close(done)
		if err != nil {
			h.mu.Unlock()
			return historyPayload{}, err
		}
		if h.version == version { // no message was added meanwhile
			h.items, h.enc, h.loadedAt = items, enc, h.now()
		} // else the next get loads again; this one's answer may lack the newest
		h.mu.Unlock()
		return enc, nil
	}
}

func (h *history) load(ctx context.Context) (historyPayload, []chatMessage, error) {
	recent, err := h.messages.RecentMessages(ctx, h.size+1)
	if err != nil {
		return historyPayload{}, nil, err
	}
	items := chatMessages(recent)
	enc, err := h.encode(items)
	if err != nil {
		return historyPayload{}, nil, err
	}
	return enc, items, nil
}

// earlierMessages returns the HistorySize messages before oldest, encoded
// as "chat history" is: the page of the conversation before the one a
// reader was shown.
func (rt *Server) earlierMessages(ctx context.Context, oldest *chat.Message) (historyPayload, error) {
	msgs, err := rt.cfg.Messages.MessagesBefore(ctx, oldest, rt.history.size+1)
	if err != nil {
		return historyPayload{}, err
	}
	return rt.history.encode(chatMessages(msgs))
}

func chatMessages(msgs []*chat.Message) []chatMessage {
	items := make([]chatMessage, len(msgs))
	for i, m := range msgs {
		items[i] = chatMessage{Username: m.Username, Name: m.Name, Message: m.Text, At: m.At}
	}
	return items
}

// add records a message just stored and broadcast, so the next joiner's
// history has it without asking the store.
func (h *history) add(m chatMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.version++
	if h.items == nil {
		return // not loaded yet: the first get reads the store
	}
	items := append(h.items, m)
	if len(items) > h.size+1 {
		items = append([]chatMessage(nil), items[len(items)-h.size-1:]...)
	}
	enc, err := h.encode(items)
	if err != nil {
		h.items, h.enc = nil, historyPayload{} // cannot happen (plain fields); reload
		return
	}
	h.items, h.enc = items, enc
}

// encode encodes the event's arguments from items (up to size+1, oldest
// first).
func (h *history) encode(items []chatMessage) (historyPayload, error) {
	var before *chatMessage
	if len(items) > h.size {
		before, items = &items[0], items[len(items)-h.size:]
	}
	list, err := encodeJSON(items)
	if err != nil {
		return historyPayload{}, err
	}
	meta, err := encodeJSON(struct {
		Before *chatMessage `json:"before"`
	}{before})
	if err != nil {
		return historyPayload{}, err
	}
	return historyPayload{list: list, meta: meta}, nil
}

// encodeJSON encodes v as every other event argument is: without escaping
// <, > and & (as JSON.stringify does).
func encodeJSON(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

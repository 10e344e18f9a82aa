package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchboard/chat"
)

// earlier asks for the messages before oldest (a "chat history" item, as
// JSON) and returns the acknowledgement's arguments.
func (tb *tab) earlier(id int, oldest string) []json.RawMessage {
	tb.t.Helper()
	tb.Text(fmt.Sprintf(`42%d["earlier messages",%s]`, id, oldest))
	prefix := fmt.Sprintf("43%d", id)
	for {
		msg := tb.ReadSkippingPongs()
		if !strings.HasPrefix(msg, prefix) {
			continue
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(msg[len(prefix):]), &args); err != nil {
			tb.t.Fatalf("answer %q: %v", msg, err)
		}
		return args
	}
}

// texts returns the texts of a list of chat messages, and the JSON of the
// first one.
func texts(t *testing.T, list json.RawMessage) (string, string) {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		t.Fatalf("list %s: %v", list, err)
	}
	var out []string
	for _, raw := range items {
		var m chatMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Message)
	}
	if len(items) == 0 {
		return "", ""
	}
	return out[0] + "…" + out[len(out)-1] + fmt.Sprintf(" (%d)", len(out)), string(items[0])
}

// A reader goes back through the conversation 50 messages at a time,
// from the oldest message the page shows, until there are none before; a
// message the store does not have, a malformed request and too many
// requests (five at once, then two a second) are refused aloud.
func TestEarlierMessagesPageBackThroughTheConversation(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 120; i++ {
		if err := e.messages.CreateMessage(context.Background(), &chat.Message{UserID: e.users["bob"].ID, Text: fmt.Sprint("msg ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	alice := e.open("alice")
	got, oldest := texts(t, json.RawMessage(alice.expect("chat history")))
	if got != "msg 71…msg 120 (50)" {
		t.Fatalf("history %s", got)
	}
	page := alice.earlier(1, oldest)
	if got, oldest = texts(t, page[0]); got != "msg 21…msg 70 (50)" || !strings.Contains(string(page[1]), `"message":"msg 20"`) {
		t.Fatalf("earlier than msg 71: %s, before %s", got, page[1])
	}
	page = alice.earlier(2, oldest)
	if got, _ = texts(t, page[0]); got != "msg 1…msg 20 (20)" || string(page[1]) != `{"before":null}` {
		t.Fatalf("earlier than msg 21: %s, before %s", got, page[1])
	}

	for i, c := range []struct{ arg, code string }{
		{`{"username":"bob","message":"never said","at":"2020-01-01T00:00:00Z"}`, "not_found"},
		{`"msg 20"`, "invalid"},
		{`{"username":"bob","message":"msg 20"}`, "invalid"},
	} {
		page := alice.earlier(10+i, c.arg)
		var refusal map[string]string
		if len(page) != 1 || json.Unmarshal(page[0], &refusal) != nil || refusal["code"] != c.code || refusal["error"] == "" {
			t.Errorf("earlier than %s: %s, want a refusal with code %s", c.arg, page, c.code)
		}
	}
	for i := range 20 { // far more than five at once and two a second
		page := alice.earlier(20+i, oldest)
		if strings.Contains(string(page[0]), `"code":"rate_limit"`) {
			return
		}
	}
	t.Error("20 requests for earlier messages at once, none refused")
}

// The chat room's Socket.IO handlers. This very file is compiled into the
// server and, with --fcc-testing, served at /_api/server.js so that the
// freeCodeCamp checker reads the real code.

package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"switchboard/chat"
	"switchboard/socketio"
)

// register installs the chat's handlers on io.
func (rt *Server) register(io *socketio.Server) {
	// Sockets authenticate with the session cookie of the page that opened
	// them, as passport.socketio does; anyone else gets connect_error
	// "unauthorized".
	io.Use(func(ctx context.Context, socket *socketio.Socket) error {
		m, err := rt.authenticate(ctx, socket)
		if err != nil {
			return err
		}
		// One user cannot hold the server with endless tabs. A tab's place
		// is given back when its socket ends, which ends ctx.
		if !rt.takeTab(m.user.ID) {
			return &socketio.ConnectError{
				Message: fmt.Sprintf("Too many chat tabs open (%d at most): close one, then reload this page.", rt.maxTabs),
				Data:    map[string]int{"limit": rt.maxTabs},
			}
		}
		context.AfterFunc(ctx, func() { rt.giveBackTab(m.user.ID) })
		socket.SetData(m)
		return nil
	})

	io.On("connection", func(socket *socketio.Socket, _ *socketio.Event) {
		m := socket.Data().(*member)
		if rt.sessionEndsNow() != m.sessionEnds {
			// A session was logged out while this socket authenticated,
			// perhaps its own, too late for the logout to find it.
			if _, err := rt.authenticate(socket.Context(), socket); err != nil {
				socket.Disconnect(true)
				return
			}
		}
		user := m.user

		// currentUsers counts distinct users with at least one live
		// connection: a second tab of the same user changes nothing.
		// The change and its announcement are queued under one lock, so
		// that announcements go out in the order of the changes; those of
		// users joining and leaving at the same time go out together, in
		// one io.EmitMany (see announce.go: the announcement's Emit
		// collects the events, announced sends them). The socket hears the
		// departures announced while its server shuts down (from other
		// servers of a cluster) unless that server is its own.
		rt.announceMu.Lock()
		if !rt.closing {
			socket.Join(presenceRoom)
		}
		first, currentUsers := rt.presence.Connect(socket.ID(), user.ID)
		var joined *announcement
		if first {
			rt.online.add(user)
			to := everyone
			if rt.closing {
				// Connected as its server shuts down: as with departures,
				// only the sockets that stay are told.
				to = inRoom(presenceRoom)
			}
			joined = rt.announce(to, func(io *announcement) {
				io.Emit("user count", currentUsers)
				io.Emit("user", userEvent{Username: user.Username, Name: user.DisplayName(), CurrentUsers: currentUsers, Connected: true})
			})
		} else {
			joined = rt.announce(onlySocket(socket), func(socket *announcement) {
				socket.Emit("user count", currentUsers)
			})
		}
		rt.announceMu.Unlock()
		rt.announced(joined) // before the history
		if hook := testHookBeforeHistory.Load(); hook != nil {
			(*hook)()
		}
		// The socket hears chat messages live from the moment its history
		// is taken: a message posted meanwhile is in one or the other,
		// never in both nor in neither.
		func() {
			rt.postMu.Lock()
			defer rt.postMu.Unlock() // deferred, as below: a panic must not stop the chat
			rt.sendHistory(socket)
			socket.Join(chatRoom)
		}()

		socket.On("chat message", func(socket *socketio.Socket, e *socketio.Event) {
			message, err := e.Args.String(0)
			if err == nil && replacedInvalid(e.Args.Raw(0), message) {
				err = chat.Errorf(chat.EINVALID, "Messages must be valid UTF-8 text.")
				rt.refuse(socket, e, rt.cfg.Poster.Refuse(user, err))
				return
			}
			if err != nil {
				rt.refuse(socket, e, rt.cfg.Poster.Refuse(user, chat.Errorf(chat.EINVALID, "A chat message is a text.")))
				return
			}
			// Stored, broadcast and added to the history in one step:
			// messages are broadcast in the order they are stored.
			err = func() error {
				rt.postMu.Lock()
				defer rt.postMu.Unlock() // even if the broadcast panics
				msg, err := rt.post(user, message)
				if err != nil {
					return err
				}
				out := chatMessage{Username: msg.Username, Name: msg.Name, Message: msg.Text, At: msg.At}
				io.To(chatRoom).Emit("chat message", out)
				rt.history.add(out)
				return nil
			}()
			if err != nil {
				rt.refuse(socket, e, err)
				return
			}
			_ = e.Ack(map[string]any{"ok": true})
		})

		// Earlier messages, as the reader goes back in the conversation: the
		// messages before the oldest one the page shows (which it knows by
		// its author, text and time), as two arguments like "chat
		// history"'s, in the acknowledgement.
		socket.On("earlier messages", func(socket *socketio.Socket, e *socketio.Event) {
			var oldest struct {
				Username string    `json:"username"`
				Message  string    `json:"message"`
				At       time.Time `json:"at"`
			}
			if err := e.Args.Decode(0, &oldest); err != nil || oldest.At.IsZero() {
				rt.refuse(socket, e, chat.Errorf(chat.EINVALID, "Say which message to go back from: {username, message, at}."))
				return
			}
			if ok, _ := rt.earlier.Allow(user.Username); !ok {
				rt.refuse(socket, e, chat.Errorf(chat.ERATELIMIT, "Too many requests for earlier messages: wait a moment."))
				return
			}
			ctx, cancel := context.WithTimeout(socket.Context(), 5*time.Second)
			defer cancel()
			page, err := rt.earlierMessages(ctx, &chat.Message{Username: oldest.Username, Text: oldest.Message, At: oldest.At})
			if err != nil {
				rt.refuse(socket, e, err)
				return
			}
			_ = e.Ack(page.list, page.meta)
		})

		// "typing": the page says its user is writing (every 2 s at most
		// while they do), and the other pages show it for a few seconds.
		// One more than the limit is dropped, not refused (a notice, not a
		// request). Not sent while more than typingMaxOnline users are
		// online: in a crowd it would be noise, and N² sends. Not volatile:
		// that would drop it for every page still being written the
		// message just before, which is when a next one is typed.
		socket.On("typing", func(socket *socketio.Socket, _ *socketio.Event) {
			if rt.presence.Count() > typingMaxOnline {
				return
			}
			if ok, _ := rt.typing.Allow(user.Username); !ok {
				return
			}
			_ = socket.Broadcast().Emit("typing", typingEvent{Username: user.Username, Name: user.DisplayName()})
		})

		// Who is online, when the page's reader opens the list: the first
		// of them in the order listed, and how many there are. The answer
		// is queued with the announcements, so the "user" events that
		// follow it are exactly the changes since: they keep an open list
		// current.
		socket.On("online users", func(socket *socketio.Socket, e *socketio.Event) {
			if ok, _ := rt.whoAsks.Allow(user.Username); !ok {
				rt.refuse(socket, e, chat.Errorf(chat.ERATELIMIT, "Too many requests for who is online: wait a moment."))
				return
			}
			rt.announceMu.Lock()
			list := rt.online.first(maxListed)
			answer := rt.announce(onlySocket(socket), func(socket *announcement) {
				socket.Emit("online users", list)
			})
			rt.announceMu.Unlock()
			rt.announced(answer)
		})

		// The disconnect handler runs for every way a connection ends: a
		// closed tab, a lost network (ping timeout), a kick, a shutdown.
		socket.On("disconnect", func(socket *socketio.Socket, e *socketio.Event) {
			rt.announceMu.Lock()
			_, last, currentUsers := rt.presence.Disconnect(socket.ID())
			if !last {
				rt.announceMu.Unlock()
				return
			}
			rt.online.remove(user.ID)
			to := everyone
			if rt.closing {
				// This server is disconnecting all its sockets: only those
				// that stay (on the other servers of a cluster) are told.
				to = inRoom(presenceRoom)
			}
			left := rt.announce(to, func(io *announcement) {
				io.Emit("user count", currentUsers)
				io.Emit("user", userEvent{Username: user.Username, Name: user.DisplayName(), CurrentUsers: currentUsers, Connected: false})
			})
			rt.announceMu.Unlock()
			rt.announced(left)
		})
	})
}

// chatRoom is the room of the sockets that receive chat messages: every
// socket, once it has been sent the history.
const chatRoom = "chat"

// presenceRoom is the room of the sockets told of the departures announced
// while a server shuts down: every socket, but those of the server
// shutting down, which leave it first (see Server.Shutdown).
const presenceRoom = "presence"

// userEvent is the payload of "user": who joined or left, and how many
// users are online now.
type userEvent struct {
	Username     string `json:"username"`
	Name         string `json:"name"`
	CurrentUsers int    `json:"currentUsers"`
	Connected    bool   `json:"connected"`
}

// typingEvent is the payload of "typing": who is writing.
type typingEvent struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

// typingMaxOnline is the most users online for which "typing" notices are
// sent.
const typingMaxOnline = 50

// chatMessage is the payload of "chat message" and of the "chat history" items.
type chatMessage struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Message  string    `json:"message"`
	At       time.Time `json:"at"`
}

// member is who a socket belongs to: the user, and the login session it
// was opened with (logging out disconnects it).
type member struct {
	user    *chat.User
	session string
	// sessionEnds is the server's count of ended sessions before the
	// cookie was checked.
	sessionEnds uint64
}

// authenticate resolves the handshake's session cookie to its user; ctx
// ends if the socket's client goes away meanwhile.
func (rt *Server) authenticate(ctx context.Context, socket *socketio.Socket) (*member, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := (&http.Request{Header: socket.Handshake().Headers}).WithContext(ctx)
	ends := rt.sessionEndsNow()
	user, err := rt.cfg.Authenticate(req)
	switch {
	case err == nil:
		m := &member{user: user, sessionEnds: ends}
		if rt.cfg.SessionKey != nil {
			m.session = rt.cfg.SessionKey(req)
		}
		return m, nil
	case chat.ErrorCode(err) == chat.EUNAUTHORIZED:
		return nil, &socketio.ConnectError{Message: "unauthorized"}
	case context.Cause(ctx) != nil && errors.Is(context.Cause(ctx), socketio.ErrDisconnected):
		return nil, context.Cause(ctx) // the client left: nobody to tell
	default:
		rt.log.Error("realtime: authenticating a socket", "err", err)
		return nil, &socketio.ConnectError{Message: "server error, please retry"}
	}
}

// post stores a message after the rate limit and validation.
func (rt *Server) post(user *chat.User, text string) (*chat.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return rt.cfg.Poster.Post(ctx, user, text)
}

// sendHistory sends the last messages to a socket that just joined (from
// a cache the posts above keep current; see history.go).
func (rt *Server) sendHistory(socket *socketio.Socket) {
	ctx, cancel := context.WithTimeout(socket.Context(), 5*time.Second)
	defer cancel()
	enc, err := rt.history.get(ctx)
	if err != nil && socket.Context().Err() != nil {
		return // the socket left meanwhile
	}
	if err != nil {
		rt.log.Error("realtime: loading history", "err", err)
		return
	}
	_ = socket.Emit("chat history", enc.list, enc.meta)
}

// refuse answers a refused request (a chat message, earlier messages): with
// the ack when the client asked for one, else with an "error message"
// event. It is never silent.
func (rt *Server) refuse(socket *socketio.Socket, e *socketio.Event, err error) {
	reply := map[string]string{"error": chat.ErrorMessage(err), "code": chat.ErrorCode(err)}
	if chat.ErrorCode(err) == chat.EINTERNAL {
		rt.log.Error("realtime: a request failed", "err", err)
	}
	if e.HasAck() {
		if ackErr := e.Ack(reply); ackErr == nil || errors.Is(ackErr, socketio.ErrAckSent) {
			return
		}
	}
	_ = socket.Emit("error message", reply)
}

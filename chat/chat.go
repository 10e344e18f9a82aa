// Package chat is the domain of the Switchboard chat room: users, sessions,
// messages, presence, validation, rate limits and the application's coded
// errors.
//
// The package is pure: it performs no I/O of its own. Storage is described by
// the UserService, SessionService and MessageService interfaces, implemented
// by chat/sqlite; HTTP pages live in chat/web and socket events in
// chat/realtime. Those subpackages depend on this one and never on each
// other; cmd/switchboard wires them together.
package chat
